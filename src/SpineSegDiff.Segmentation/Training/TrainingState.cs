namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// Where a run stands, saved beside each checkpoint, so <c>--resume</c> continues at the same step with the same
/// seed and schedule (the batches and noise are functions of seed and step).
/// </summary>
public sealed record TrainingState
{
    public required TrainingTarget Target { get; init; }

    public required int CompletedSteps { get; init; }

    public required int TotalSteps { get; init; }

    public required int Seed { get; init; }

    public required int BatchSize { get; init; }

    public required double PeakLearningRate { get; init; }

    public required double TrainingSeconds { get; init; }

    public double? LastLoss { get; init; }

    public IReadOnlyDictionary<string, double>? LastValidationDice { get; init; }

    public void Save(string path) => JsonFile.Write(path, this);

    public static TrainingState Load(string path) => JsonFile.Read<TrainingState>(path);
}
