using System.Text.Json;
using System.Text.Json.Nodes;
using SpineSegDiff.Imaging.Spider;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// The JSON file that sits beside every checkpoint (same name, ".card.json"): what the model is, what it was trained
/// on and how well it did, so a site can tell which weights its results came from.
/// </summary>
public sealed record ModelCard
{
    public const string FileSuffix = ".card.json";
    public const string SyntheticDataNotice =
        "Trained only on synthetic MR images rendered from real SPIDER label maps. Not for clinical use.";

    public required string Name { get; init; }

    public required string Architecture { get; init; }

    public required string Version { get; init; }

    public required JsonObject Configuration { get; init; }

    public required long ParameterCount { get; init; }

    public required TrainingDataDescription TrainingData { get; init; }

    public required int Seed { get; init; }

    public required int Steps { get; init; }

    public required int BatchSize { get; init; }

    public required string Optimizer { get; init; }

    /// <summary>Side of the square training patches (320 = whole slices); see TrainingCrop.</summary>
    public int? TrainingPatchSize { get; init; }

    /// <summary>What <see cref="ValidationDice"/> was measured on.</summary>
    public string? Validation { get; init; }

    public double? TrainingSeconds { get; init; }

    public IReadOnlyDictionary<string, double>? ValidationDice { get; init; }

    public required DateTimeOffset Date { get; init; }

    public string Notice { get; init; } = SyntheticDataNotice;

    /// <summary>A network configuration as the card stores it (camelCase, like the rest of the card).</summary>
    public static JsonObject DescribeConfiguration<T>(T configuration) =>
        JsonSerializer.SerializeToNode(configuration, JsonFile.Options)!.AsObject();

    public static string PathFor(string checkpointPath) => Path.ChangeExtension(checkpointPath, null) + FileSuffix;

    public void Save(string checkpointPath) => JsonFile.Write(PathFor(checkpointPath), this);

    public static ModelCard Load(string checkpointPath) => JsonFile.Read<ModelCard>(PathFor(checkpointPath));
}

/// <summary>Which real anatomy the synthetic training images came from, and the patient-level split (with the data hash).</summary>
public sealed record TrainingDataDescription
{
    public required string Description { get; init; }

    public required DatasetSplitRecord Split { get; init; }
}
