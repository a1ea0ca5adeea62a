using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>What differs between training the presegmentation net and the diffusion net; the loop is shared.</summary>
internal interface ITrainingObjective : IDisposable
{
    /// <summary>Name of the model files: NAME.checkpoint, NAME.model, NAME.card.json, NAME.state.json.</summary>
    string Name { get; }

    string Architecture { get; }

    SegmentationNetwork Network { get; }

    System.Text.Json.Nodes.JsonObject Configuration { get; }

    /// <summary>One optimiser step on a batch; <paramref name="stepSeed"/> seeds any per-step randomness (noise, t).</summary>
    TrainingLoss Step(TrainingBatch batch, long stepSeed);

    /// <summary>How this objective's validation Dice is obtained, when more than "segment the slice" (starts with "; ").</summary>
    string ValidationNote => string.Empty;

    /// <summary>Dice per class (canal, vertebra, disc) on the validation set, plus extra figures worth a line.</summary>
    (double[] Dice, string? Detail) Validate(ValidationSet validation);
}
