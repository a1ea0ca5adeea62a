using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Networks;
using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Segmentation.Inference;

/// <summary>The two networks of the method, loaded together with their cards (whose versions go into every result).</summary>
public sealed class SegmentationModels : IDisposable
{
    public const string PresegmentationFile = "presegmentation.model";
    public const string DiffusionFile = "spinesegdiff.model";
    public const string EnvironmentVariable = "SPINESEG_MODELS_DIR";

    private SegmentationModels(PresegmentationNetwork presegmentation, ModelCard presegmentationCard, SpineSegDiffNetwork? diffusion, ModelCard? diffusionCard)
    {
        Presegmentation = presegmentation;
        PresegmentationCard = presegmentationCard;
        Diffusion = diffusion;
        DiffusionCard = diffusionCard;
    }

    public PresegmentationNetwork Presegmentation { get; }

    public ModelCard PresegmentationCard { get; }

    /// <summary>Null when loaded for presegmentation only.</summary>
    public SpineSegDiffNetwork? Diffusion { get; }

    public ModelCard? DiffusionCard { get; }

    /// <summary>
    /// Loads <see cref="PresegmentationFile"/> and (unless <paramref name="presegmentationOnly"/>)
    /// <see cref="DiffusionFile"/> from <paramref name="directory"/>, each with its card. Missing files are reported by
    /// name, so a misconfigured model folder fails at start rather than at the first study.
    /// </summary>
    public static SegmentationModels Load(string directory, ComputeDevice device = ComputeDevice.Auto, bool presegmentationOnly = false)
    {
        var presegPath = Path.Combine(directory, PresegmentationFile);
        var diffusionPath = Path.Combine(directory, DiffusionFile);
        var required = presegmentationOnly ? new[] { presegPath } : [presegPath, diffusionPath];
        var missing = required.SelectMany(p => new[] { p, ModelCard.PathFor(p) }).Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            throw new FileNotFoundException($"Model files not found: {string.Join(", ", missing)}");
        }

        var presegmentation = PresegmentationNetwork.Load(presegPath, device);
        SpineSegDiffNetwork? diffusion = null;
        try
        {
            diffusion = presegmentationOnly ? null : SpineSegDiffNetwork.Load(diffusionPath, device);
            return new SegmentationModels(
                presegmentation, ModelCard.Load(presegPath), diffusion, presegmentationOnly ? null : ModelCard.Load(diffusionPath));
        }
        catch
        {
            presegmentation.Dispose();
            diffusion?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The model folder: <see cref="EnvironmentVariable"/> when set, else the first ancestor of the application or
    /// working directory with models/presegmentation.model (the repository's shipped models).
    /// </summary>
    public static string FindDirectory()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models");
                if (File.Exists(Path.Combine(candidate, PresegmentationFile)))
                {
                    return candidate;
                }
            }
        }
        throw new DirectoryNotFoundException($"models/{PresegmentationFile} not found above {AppContext.BaseDirectory}; set {EnvironmentVariable} or pass --models.");
    }

    /// <summary>"name version" of each loaded model, for results and logs.</summary>
    public IReadOnlyDictionary<string, string> Versions
    {
        get
        {
            var versions = new Dictionary<string, string>(StringComparer.Ordinal) { [PresegmentationCard.Name] = PresegmentationCard.Version };
            if (DiffusionCard is not null)
            {
                versions[DiffusionCard.Name] = DiffusionCard.Version;
            }
            return versions;
        }
    }

    public void Dispose()
    {
        Presegmentation.Dispose();
        Diffusion?.Dispose();
    }
}
