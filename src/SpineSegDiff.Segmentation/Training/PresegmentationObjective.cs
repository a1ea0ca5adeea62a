using System.Text.Json.Nodes;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>Trains the presegmentation U-Net on label maps (soft Dice + BCE, computed natively).</summary>
internal sealed class PresegmentationObjective(PresegmentationNetwork network) : ITrainingObjective
{
    /// <summary>Validation forwards run in batches of this size to bound memory.</summary>
    private const int InferenceBatch = 4;

    public string Name => "presegmentation";

    public string Architecture => "nnU-Net-style 2D U-Net presegmentation (1 -> 3 sigmoid channels: canal, vertebra, disc)";

    public SegmentationNetwork Network => network;

    public JsonObject Configuration => ModelCard.DescribeConfiguration(network.Config);

    public TrainingLoss Step(TrainingBatch batch, long stepSeed) =>
        network.TrainStep(batch.Images, batch.Labels, batch.BatchSize, batch.Height, batch.Width);

    public (double[] Dice, string? Detail) Validate(ValidationSet validation) => (Score(network, validation), null);

    /// <summary>Pooled Dice of <paramref name="presegmentation"/> over the validation set.</summary>
    public static double[] Score(PresegmentationNetwork presegmentation, ValidationSet validation)
    {
        const int pixels = ValidationSet.Size * ValidationSet.Size;
        var accumulator = new DiceScore.Accumulator();
        var predicted = new byte[pixels];
        foreach (var (images, labels, count) in validation.Batches(InferenceBatch))
        {
            var probabilities = presegmentation.PredictProbabilities(images, count, ValidationSet.Size, ValidationSet.Size);
            for (var i = 0; i < count; i++)
            {
                LabelDecoding.ToLabels(probabilities.AsSpan(i * 3 * pixels, 3 * pixels), predicted);
                accumulator.Add(predicted, labels.AsSpan(i * pixels, pixels));
            }
        }
        return accumulator.Scores();
    }

    public void Dispose() => network.Dispose();
}
