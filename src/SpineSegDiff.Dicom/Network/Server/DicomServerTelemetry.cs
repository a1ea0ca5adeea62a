using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// The Storage SCP's spans (ActivitySource "SpineSegDiff.Dicom": dicom.association, dicom.c-store) and instruments
/// (Meter "SpineSegDiff.Dicom"). Tags carry AE titles, the peer address, SOP classes and reject reasons only: no UID
/// and nothing from a data set, so this layer needs no privacy options.
/// </summary>
public sealed class DicomServerTelemetry : IDisposable
{
    public const string Name = "SpineSegDiff.Dicom";

    /// <summary>The source is process-wide by design (listeners subscribe by name); it holds no state of ours.</summary>
    internal static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _instances;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _accepted;

    /// <param name="capacity">Observed for the free-disk gauge (the store's file system).</param>
    /// <param name="meterFactory">The host's factory (it then owns the meter); null creates a meter this object disposes.</param>
    public DicomServerTelemetry(Func<StorageCapacity> capacity, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(capacity);
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(Name) ?? new Meter(Name);
        _instances = _meter.CreateCounter<long>("spineseg.dicom.instances.received", "{instance}", "C-STORE requests answered, by calling AE title and status class");
        _accepted = _meter.CreateCounter<long>("spineseg.dicom.associations.accepted", "{association}", "Associations accepted, by calling AE title");
        _rejected = _meter.CreateCounter<long>("spineseg.dicom.associations.rejected", "{association}", "Associations rejected, by reason");
        _meter.CreateObservableGauge("spineseg.dicom.store.free_disk", () =>
        {
            var c = capacity();
            return c.AvailableBytes;
        }, "By", "Free bytes on the instance store's file system (long.MaxValue when unlimited or not measurable)");
    }

    internal void InstanceReceived(string callingAe, bool stored) =>
        _instances.Add(1, new KeyValuePair<string, object?>("dicom.calling_ae_title", callingAe), new KeyValuePair<string, object?>("outcome", stored ? "stored" : "refused"));

    internal void AssociationAccepted(string callingAe) => _accepted.Add(1, new KeyValuePair<string, object?>("dicom.calling_ae_title", callingAe));

    internal void AssociationRejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
