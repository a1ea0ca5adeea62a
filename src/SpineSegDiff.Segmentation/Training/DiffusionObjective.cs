using System.Globalization;
using System.Text.Json.Nodes;
using SpineSegDiff.Segmentation.Diffusion;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// Trains SpineSegDiff with the presegmentation strategy (paper appendix A.3): the input x_t is the presegmentation
/// network's output, scaled to [-1, 1] and noised with the cosine schedule at a timestep t drawn from [0, T_pre);
/// the target is the ground-truth mask x0 in {-1, 1}. The network predicts x0 directly.
/// </summary>
internal sealed class DiffusionObjective : ITrainingObjective
{
    private const int InferenceBatch = 4;
    private const int ValidationNoiseSeed = 20_240_531;
    private readonly SpineSegDiffNetwork _network;
    private readonly PresegmentationNetwork _presegmentation;
    private readonly CosineNoiseSchedule _schedule;
    private readonly int _maxTimestep;
    private readonly PresegmentationCorruption _corruption;
    private readonly OutOfFoldPresegmentations? _outOfFold;
    private double[]? _presegmentationDice;

    /// <param name="outOfFold">When given, training inputs come from these networks (owned from here on); validation
    /// keeps <paramref name="presegmentation"/>, the network used at inference.</param>
    public DiffusionObjective(
        SpineSegDiffNetwork network, PresegmentationNetwork presegmentation, int maxTimestep, int diffusionSteps, double corruptedFraction,
        OutOfFoldPresegmentations? outOfFold = null)
    {
        _network = network;
        _presegmentation = presegmentation;
        _outOfFold = outOfFold;
        _maxTimestep = maxTimestep;
        _schedule = new CosineNoiseSchedule(diffusionSteps);
        _corruption = new PresegmentationCorruption(corruptedFraction);
    }

    /// <summary>Version of the presegmentation model whose outputs are refined (recorded in the card).</summary>
    public string? PresegmentationVersion { get; init; }

    /// <summary>Whether the network started from the presegmentation's weights (recorded in the card).</summary>
    public bool WarmStarted { get; init; }

    public string Name => "spinesegdiff";

    public string Architecture => "SpineSegDiff: image encoder + denoising U-Net predicting x0 (3 mask channels in [-1, 1])";

    public SegmentationNetwork Network => _network;

    public string ValidationNote => $"; single-step x0 prediction from the presegmentation noised to t = {_maxTimestep - 1} (fixed noise)";

    public JsonObject Configuration
    {
        get
        {
            var node = ModelCard.DescribeConfiguration(_network.Config);
            node["diffusionSteps"] = _schedule.Steps;
            node["maxTrainingTimestep"] = _maxTimestep;
            node["noiseSchedule"] = "cosine";
            node["parameterisation"] = "x0";
            node["corruptedPresegmentationFraction"] = _corruption.Fraction;
            node["presegmentationModel"] = PresegmentationVersion;
            node["warmStartFromPresegmentation"] = WarmStarted;
            if (_outOfFold is not null)
            {
                node["outOfFoldPresegmentationModels"] = new JsonArray([.. _outOfFold.Versions.Select(v => (JsonNode?)v)]);
            }
            return node;
        }
    }

    public TrainingLoss Step(TrainingBatch batch, long stepSeed)
    {
        var random = new Random(unchecked((int)stepSeed ^ (int)(stepSeed >> 32)));
        var timesteps = new long[batch.BatchSize];
        for (var i = 0; i < timesteps.Length; i++)
        {
            timesteps[i] = random.Next(_maxTimestep);
        }
        var probabilities = _outOfFold is null
            ? _presegmentation.PredictProbabilities(batch.Images, batch.BatchSize, batch.Height, batch.Width)
            : _outOfFold.PredictProbabilities(batch);
        var noisy = NoisedPresegmentation(probabilities, batch.BatchSize, batch.Height, batch.Width, timesteps, random, _corruption);
        var clean = new float[noisy.Length];
        LabelDecoding.ToOneHotBatch(batch.Labels, batch.BatchSize, clean, inside: 1f, outside: -1f);
        return _network.TrainStep(batch.Images, noisy, timesteps, clean, batch.Height, batch.Width);
    }

    /// <summary>
    /// Scores the single-step x0 prediction from the presegmentation noised to the last training timestep (fixed
    /// noise): the refinement's starting point at inference. Reports the presegmentation's own Dice beside it.
    /// </summary>
    public (double[] Dice, string? Detail) Validate(ValidationSet validation)
    {
        const int size = ValidationSet.Size;
        const int pixels = size * size;
        _presegmentationDice ??= PresegmentationObjective.Score(_presegmentation, validation);
        var random = new Random(ValidationNoiseSeed);
        var accumulator = new DiceScore.Accumulator();
        var predicted = new byte[pixels];
        foreach (var (images, labels, count) in validation.Batches(InferenceBatch))
        {
            var timesteps = Enumerable.Repeat((long)(_maxTimestep - 1), count).ToArray();
            var noisy = NoisedPresegmentation(_presegmentation.PredictProbabilities(images, count, size, size), count, size, size, timesteps, random, corruption: null);
            using var features = _network.EncodeImage(images, count, size, size);
            var clean = _network.Denoise(features, noisy, timesteps);
            for (var i = 0; i < clean.Length; i++)
            {
                clean[i] = (clean[i] + 1) / 2;
            }
            for (var i = 0; i < count; i++)
            {
                LabelDecoding.ToLabels(clean.AsSpan(i * 3 * pixels, 3 * pixels), predicted);
                accumulator.Add(predicted, labels.AsSpan(i * pixels, pixels));
            }
        }
        var p = _presegmentationDice;
        return (accumulator.Scores(), string.Create(CultureInfo.InvariantCulture, $"; presegmentation alone {p[0]:F3} / {p[1]:F3} / {p[2]:F3}"));
    }

    public void Dispose()
    {
        _network.Dispose();
        _presegmentation.Dispose();
        _outOfFold?.Dispose();
    }

    /// <summary>
    /// x_t = sqrt(ᾱ_t)·(2p − 1) + sqrt(1 − ᾱ_t)·ε for the presegmentation probabilities p of each image (perturbed
    /// first when training); overwrites <paramref name="probabilities"/>.
    /// </summary>
    private float[] NoisedPresegmentation(
        float[] probabilities, int batch, int height, int width, long[] timesteps, Random random, PresegmentationCorruption? corruption)
    {
        var perImage = probabilities.Length / batch;
        var noise = new float[perImage];
        var noisy = new float[probabilities.Length];
        for (var b = 0; b < batch; b++)
        {
            var slice = probabilities.AsSpan(b * perImage, perImage);
            corruption?.Apply(slice, height, width, random);
            for (var i = 0; i < slice.Length; i++)
            {
                slice[i] = (2 * slice[i]) - 1;
            }
            GaussianNoise.Fill(random, noise);
            _schedule.AddNoise(slice, noise, (int)timesteps[b], noisy.AsSpan(b * perImage, perImage));
        }
        return noisy;
    }
}
