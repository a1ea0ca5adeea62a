using System.Text.Json;

namespace SpineSegDiff.Segmentation.Inference;

/// <summary>The stages of one segmentation whose time is reported (benchmarks, JSON summaries, telemetry).</summary>
public enum Stage
{
    Preprocessing,
    Presegmentation,
    ImageEncoder,
    Denoiser,

    /// <summary>Noise draws and DDIM updates between network calls.</summary>
    Sampling,

    /// <summary>Sample means, time-weighted fusion and entropy.</summary>
    Fusion,

    /// <summary>Thresholding, hole filling, small-component removal, mapping back to the source grid.</summary>
    Postprocessing,
}

/// <summary>Wall-clock time per <see cref="Stage"/> of one segmentation; not thread-safe (one per job).</summary>
public sealed class StageTimings
{
    private readonly TimeSpan[] _elapsed = new TimeSpan[Enum.GetValues<Stage>().Length];

    /// <summary>Denoiser calls made (each one batch of S samples).</summary>
    public int DenoiserSteps { get; private set; }

    public TimeSpan this[Stage stage] => _elapsed[(int)stage];

    public TimeSpan Total => _elapsed.Aggregate(TimeSpan.Zero, (sum, t) => sum + t);

    /// <summary>Time inside the networks (presegmentation, image encoder, denoiser).</summary>
    public TimeSpan Network => this[Stage.Presegmentation] + this[Stage.ImageEncoder] + this[Stage.Denoiser];

    public void Add(Stage stage, TimeSpan elapsed) => _elapsed[(int)stage] += elapsed;

    public void CountDenoiserStep() => DenoiserSteps++;

    public void Add(StageTimings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _elapsed.Length; i++)
        {
            _elapsed[i] += other._elapsed[i];
        }
        DenoiserSteps += other.DenoiserSteps;
    }

    /// <summary>Seconds per stage keyed by camelCase stage name, for JSON.</summary>
    public IReadOnlyDictionary<string, double> ToSeconds()
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var stage in Enum.GetValues<Stage>())
        {
            result[JsonNamingPolicy.CamelCase.ConvertName(stage.ToString())] = Math.Round(this[stage].TotalSeconds, 4);
        }
        result["total"] = Math.Round(Total.TotalSeconds, 4);
        return result;
    }
}
