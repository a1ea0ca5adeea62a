using System.Diagnostics.Metrics;

namespace SpineSegDiff.Gateway.Export;

/// <summary>
/// The exporter's instruments on the Meter "SpineSegDiff.Gateway". Tags carry the destination name and the failure
/// kind only (no reasons, ids or patient data: bounded cardinality, nothing identifying).
/// </summary>
public sealed class ExportMetrics : IDisposable
{
    public const string MeterName = "SpineSegDiff.Gateway";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _parked;

    /// <param name="queue">Observed for the pending-items gauge.</param>
    /// <param name="meterFactory">The host's factory (it then owns the meter); null creates a meter this object disposes.</param>
    public ExportMetrics(ExportQueue queue, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(queue);
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _delivered = _meter.CreateCounter<long>("spineseg.gateway.exports.delivered", "{item}", "Export items delivered to their destination");
        _retries = _meter.CreateCounter<long>("spineseg.gateway.exports.retries", "{attempt}", "Export sends repeated after a transient failure (within a round and in later rounds)");
        _parked = _meter.CreateCounter<long>("spineseg.gateway.exports.parked", "{item}", "Export items parked (permanent failure or older than MaxPendingAge)");
        _meter.CreateObservableGauge("spineseg.gateway.exports.pending", () => queue.PendingCount, "{item}", "Export items waiting for delivery");
    }

    /// <summary>For tests: listen to this instance only.</summary>
    internal Meter Meter => _meter;

    internal void Delivered(string destination) => _delivered.Add(1, new KeyValuePair<string, object?>("destination", destination));

    internal void Retried(string destination) => _retries.Add(1, new KeyValuePair<string, object?>("destination", destination));

    internal void Parked(string destination, ExportFailureKind kind) =>
        _parked.Add(1, new KeyValuePair<string, object?>("destination", destination), new KeyValuePair<string, object?>("kind", kind == ExportFailureKind.Permanent ? "permanent" : "expired"));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
