using System.Diagnostics;
using System.Diagnostics.Metrics;
using SpineSegDiff.Dicom;
using SpineSegDiff.Telemetry;

namespace SpineSegDiff.Gateway.Telemetry;

/// <summary>
/// The gateway's spans (ActivitySource "SpineSegDiff.Gateway": series.assembly, series.route, results.intake,
/// export.attempt) and routing instruments (Meter "SpineSegDiff.Gateway", shared with <see cref="Export.ExportMetrics"/>),
/// with the operator's privacy options: UIDs raw or hashed, patient data only when switched on.
/// </summary>
public sealed class GatewayTelemetry : IDisposable
{
    /// <summary>Process-wide by design (listeners subscribe by name); it holds no state of ours.</summary>
    internal static readonly ActivitySource Source = new(TelemetryNames.Gateway);

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _routed;
    private readonly Counter<long> _notRouted;

    /// <param name="assembling">Observed for the series-being-assembled gauge; null: no gauge.</param>
    /// <param name="meterFactory">The host's factory (it then owns the meter); null creates a meter this object disposes.</param>
    /// <param name="openJobs">Observed for the open-jobs gauge (the job journal); null: no gauge.</param>
    public GatewayTelemetry(TelemetryOptions options, Func<int>? assembling = null, IMeterFactory? meterFactory = null, Func<int>? openJobs = null)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(TelemetryNames.Gateway) ?? new Meter(TelemetryNames.Gateway);
        _routed = _meter.CreateCounter<long>("spineseg.gateway.series.routed", "{series}", "Complete series routed to a segmentation job, by rule");
        _notRouted = _meter.CreateCounter<long>("spineseg.gateway.series.not_routed", "{series}", "Complete series no rule took, by called AE title");
        if (assembling is not null)
        {
            _meter.CreateObservableGauge("spineseg.gateway.series.assembling", assembling, "{series}", "Series being assembled (waiting for their quiet period)");
        }
        if (openJobs is not null)
        {
            // The node's job queue depth whatever the transport: on RabbitMQ the broker's own queue metrics say the same per queue.
            _meter.CreateObservableGauge("spineseg.gateway.jobs.open", openJobs, "{job}", "Segmentation jobs published and not yet answered (waiting for a worker or in one)");
        }
    }

    public TelemetryOptions Options { get; }

    internal void Routed(string rule) => _routed.Add(1, new KeyValuePair<string, object?>(TelemetryAttributes.Rule, rule));

    internal void NotRouted(string calledAeTitle) => _notRouted.Add(1, new KeyValuePair<string, object?>(TelemetryAttributes.CalledAeTitle, calledAeTitle));

    /// <summary>
    /// Patient name, ID, birth date and accession number, for a span or audit event, only when the operator switched
    /// <see cref="TelemetryOptions.IncludePatientData"/> on; otherwise nothing.
    /// </summary>
    internal IEnumerable<KeyValuePair<string, object?>> PatientData(DicomDataset header)
    {
        if (!Options.IncludePatientData)
        {
            yield break;
        }
        yield return new(TelemetryAttributes.PatientName, header.GetString(DicomTags.PatientName));
        yield return new(TelemetryAttributes.PatientId, header.GetString(DicomTags.PatientID));
        yield return new(TelemetryAttributes.PatientBirthDate, header.GetString(DicomTags.PatientBirthDate));
        yield return new(TelemetryAttributes.AccessionNumber, header.GetString(DicomTags.AccessionNumber));
    }

    /// <summary>A W3C traceparent for a durable record (the export queue), so later work joins the study's trace.</summary>
    internal static string? CurrentTraceParent() => Activity.Current is { } a && a.IdFormat == ActivityIdFormat.W3C ? a.Id : null;

    internal static ActivityContext ParseTraceParent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
