using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using SpineSegDiff.Gateway.Export;

namespace SpineSegDiff.Gateway.Tests.Support;

/// <summary>Sums the exporter's counters as they are recorded (only the meter instance of this test).</summary>
internal sealed class MetricsCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new();

    public MetricsCapture(ExportMetrics metrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ExportMetrics.MeterName && ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _totals.AddOrUpdate(instrument.Name, value, (_, old) => old + value));
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => _totals[instrument.Name] = value);
        _listener.Start();
    }

    public long this[string name] => _totals.TryGetValue(name, out var v) ? v : 0;

    public long Pending()
    {
        _listener.RecordObservableInstruments();
        return this["spineseg.gateway.exports.pending"];
    }

    public void Dispose() => _listener.Dispose();
}
