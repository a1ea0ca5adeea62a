using System.Diagnostics;
using System.Diagnostics.Metrics;
using SpineSegDiff.Telemetry;

namespace SpineSegDiff.Worker;

/// <summary>
/// The worker's spans (ActivitySource "SpineSegDiff.Worker": segmentation.job and its stages) and instruments
/// (Meter "SpineSegDiff.Worker": jobs started, completed, failed; stage latencies; the loaded model versions).
/// </summary>
public sealed class WorkerTelemetry : IDisposable
{
    /// <summary>Process-wide by design (listeners subscribe by name); it holds no state of ours.</summary>
    internal static readonly ActivitySource Source = new(TelemetryNames.Worker);

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _started;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _stageSeconds;
    private readonly Lock _gate = new();
    private IReadOnlyDictionary<string, string> _modelVersions = new Dictionary<string, string>();

    /// <param name="meterFactory">The host's factory (it then owns the meter); null creates a meter this object disposes.</param>
    public WorkerTelemetry(TelemetryOptions options, IMeterFactory? meterFactory = null)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(TelemetryNames.Worker) ?? new Meter(TelemetryNames.Worker);
        _started = _meter.CreateCounter<long>("spineseg.worker.jobs.started", "{job}", "Segmentation jobs started, by profile");
        _completed = _meter.CreateCounter<long>("spineseg.worker.jobs.completed", "{job}", "Segmentation jobs completed, by profile");
        _failed = _meter.CreateCounter<long>("spineseg.worker.jobs.failed", "{job}", "Segmentation jobs refused (kind) or handed back");
        _stageSeconds = _meter.CreateHistogram<double>("spineseg.worker.stage.duration", "s", "Time per pipeline stage of one job",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
        // Value 1 per loaded model, its version as a tag: the usual "info" gauge, so dashboards show which version served.
        _meter.CreateObservableGauge("spineseg.worker.model.info", ModelInfo, "{model}", "Models loaded by this worker, with their versions");
    }

    public TelemetryOptions Options { get; }

    internal void Started(string profile) => _started.Add(1, new KeyValuePair<string, object?>(TelemetryAttributes.Profile, profile));

    internal void Completed(string profile) => _completed.Add(1, new KeyValuePair<string, object?>(TelemetryAttributes.Profile, profile));

    internal void Failed(string kind) => _failed.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void Stage(string stage, double seconds) => _stageSeconds.Record(seconds, new KeyValuePair<string, object?>("stage", stage));

    /// <summary>Known only once a job loaded them (the models load on the first job, never for a metrics read).</summary>
    internal void ModelsLoaded(IReadOnlyDictionary<string, string> versions)
    {
        lock (_gate)
        {
            _modelVersions = versions;
        }
    }

    private IEnumerable<Measurement<int>> ModelInfo()
    {
        IReadOnlyDictionary<string, string> versions;
        lock (_gate)
        {
            versions = _modelVersions;
        }
        return versions.Select(v => new Measurement<int>(1, new KeyValuePair<string, object?>("model", v.Key), new KeyValuePair<string, object?>("version", v.Value))).ToList();
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
