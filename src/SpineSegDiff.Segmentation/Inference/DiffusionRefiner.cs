using System.Diagnostics;
using SpineSegDiff.Segmentation.Diffusion;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Inference;

/// <summary>The refined class probabilities (3 x H x W, fused over the last steps) and their per-class uncertainty in bits.</summary>
public sealed record RefinementResult(float[] Probabilities, float[] Uncertainty);

/// <summary>
/// SpineSegDiff's refinement of one image: the presegmentation, scaled to [−1, 1], is noised to t_start once per
/// sample; S samples then run as one batch through K DDIM steps to t = 0, the image encoder's features computed once
/// and shared by every sample and step. At each of the last Ts steps the sample mean of x̂0 (as probabilities) is
/// fused with the paper's exponential time weights, and its binary entropy, maximised over those steps, is the
/// uncertainty. One seeded generator per call draws all noise, so a seed reproduces a result bit for bit.
/// </summary>
public sealed class DiffusionRefiner
{
    private readonly SpineSegDiffNetwork _network;
    private readonly CosineNoiseSchedule _schedule;

    public DiffusionRefiner(SpineSegDiffNetwork network, int diffusionSteps = 1000)
    {
        ArgumentNullException.ThrowIfNull(network);
        _network = network;
        _schedule = new CosineNoiseSchedule(diffusionSteps);
    }

    public RefinementResult Refine(
        ReadOnlySpan<float> image,
        ReadOnlySpan<float> presegmentation,
        int height,
        int width,
        InferenceProfile profile,
        int seed,
        StageTimings timings,
        IProgress<int>? stepsDone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(timings);
        var errors = profile.Validate(_schedule.Steps);
        if (errors.Count > 0 || !profile.Refine)
        {
            throw new ArgumentException($"Profile {profile.Name} cannot refine: {string.Join(" ", errors)}", nameof(profile));
        }
        var plane = SpineSegDiffNetwork.MaskChannels * height * width;
        if (presegmentation.Length != plane)
        {
            throw new ArgumentException($"Expected {SpineSegDiffNetwork.MaskChannels} x {height} x {width} presegmentation probabilities.", nameof(presegmentation));
        }

        var samples = profile.Samples;
        var random = new Random(seed);
        var sampler = new DdimSampler(_schedule, profile.Eta);
        var timesteps = DdimSampler.Timesteps(profile.StartTimestep, profile.Steps);
        var weights = TimeWeightedFusion.Weights(profile.FusedSteps);
        var firstFused = profile.Steps - profile.FusedSteps;

        var clock = Stopwatch.StartNew();
        var xt = new float[samples * plane];
        var noise = new float[samples * plane];
        var start = new float[plane];
        for (var i = 0; i < plane; i++)
        {
            start[i] = (2 * presegmentation[i]) - 1;
        }
        GaussianNoise.Fill(random, noise);
        for (var s = 0; s < samples; s++)
        {
            _schedule.AddNoise(start, noise.AsSpan(s * plane, plane), timesteps[0], xt.AsSpan(s * plane, plane));
        }
        timings.Add(Stage.Sampling, clock.Elapsed);

        clock.Restart();
        using var features = _network.EncodeImage(image, 1, height, width);
        timings.Add(Stage.ImageEncoder, clock.Elapsed);

        var predicted = new float[samples * plane];
        var mean = new float[plane];
        var fused = new float[plane];
        var uncertainty = new float[plane];
        for (var k = 0; k < timesteps.Length; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var t = timesteps[k];
            clock.Restart();
            _network.Denoise(features, xt, Enumerable.Repeat((long)t, samples).ToArray(), predicted);
            timings.Add(Stage.Denoiser, clock.Elapsed);
            timings.CountDenoiserStep();

            clock.Restart();
            if (k >= firstFused)
            {
                SampleMeanProbability(predicted, samples, plane, mean);
                var w = (float)weights[k - firstFused];
                for (var i = 0; i < plane; i++)
                {
                    fused[i] += w * mean[i];
                    uncertainty[i] = Math.Max(uncertainty[i], BinaryEntropy.Bits(mean[i]));
                }
            }
            timings.Add(Stage.Fusion, clock.Elapsed);

            if (k + 1 < timesteps.Length)
            {
                clock.Restart();
                var previous = timesteps[k + 1];
                if (sampler.Sigma(t, previous) > 0)
                {
                    GaussianNoise.Fill(random, noise);
                }
                sampler.Step(xt, predicted, t, previous, noise, xt);
                timings.Add(Stage.Sampling, clock.Elapsed);
            }
            stepsDone?.Report(k + 1);
        }
        return new RefinementResult(fused, uncertainty);
    }

    /// <summary>mean_s((x̂0_s + 1) / 2): the samples' average probability per class and pixel.</summary>
    private static void SampleMeanProbability(ReadOnlySpan<float> predicted, int samples, int plane, Span<float> mean)
    {
        mean.Clear();
        for (var s = 0; s < samples; s++)
        {
            var sample = predicted.Slice(s * plane, plane);
            for (var i = 0; i < plane; i++)
            {
                mean[i] += sample[i];
            }
        }
        var scale = 0.5f / samples;
        for (var i = 0; i < plane; i++)
        {
            mean[i] = Math.Clamp((mean[i] * scale) + 0.5f, 0f, 1f);
        }
    }
}
