using System.Diagnostics;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Telemetry;

namespace SpineSegDiff.Gateway.Assembly;

/// <summary>A series the assembler considers complete.</summary>
/// <param name="InstancePaths">Stored files, one per SOP instance, in arrival order.</param>
/// <param name="Header">The first instance's header (routing looks at it).</param>
/// <param name="CalledAeTitle">The node's AE title the series was sent to: it decides which routing rules apply.</param>
/// <param name="Watchdog">Completed by the watchdog, not by quiet time or release.</param>
/// <param name="Trace">The span the series' first instance was stored under (its association): the routing span's parent.</param>
public sealed record AssembledSeries(
    string StudyInstanceUid,
    string SeriesInstanceUid,
    IReadOnlyList<string> InstancePaths,
    DicomDataset Header,
    string CallingAeTitle,
    string CalledAeTitle,
    DateTimeOffset FirstReceivedAt,
    DateTimeOffset LastReceivedAt,
    bool Watchdog,
    ActivityContext Trace = default);

/// <summary>
/// Collects stored instances per series and decides when a series is complete: after a quiet period with no new
/// instance, optionally when the sending association is released, or by the watchdog after a maximum assembly time.
/// A duplicate (same SOP Instance UID) neither adds an instance nor restarts the quiet period. Instances of a series
/// that arrive after it was completed start a new assembly (a resend or a late instance: it is segmented again,
/// rather than silently dropped). A series is assembled per called AE title: the same series sent to two of the
/// node's titles is two assemblies, each routed by its own title's rules.
/// </summary>
/// <param name="telemetry">How UIDs appear in the instance-stored audit event; null: as configured by default (raw).</param>
public sealed class SeriesAssembler(SeriesAssemblyOptions options, TimeProvider? time = null, TelemetryOptions? telemetry = null) : IStoredInstanceObserver
{
    private readonly TelemetryOptions _telemetry = telemetry ?? new TelemetryOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private readonly Dictionary<SeriesKey, Pending> _pending = [];
    private readonly HashSet<SeriesKey> _released = [];

    /// <summary>Series being assembled now.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// The store folders of the series being assembled now (retention must leave them alone). A snapshot: a series
    /// that starts a moment later has a new instance, too young for retention anyway.
    /// </summary>
    public IReadOnlySet<string> PendingSeriesDirectories()
    {
        lock (_gate)
        {
            return _pending.Values.SelectMany(p => p.Paths).Select(p => Path.GetDirectoryName(Path.GetFullPath(p))!).ToHashSet(StringComparer.Ordinal);
        }
    }

    public void OnStored(StoredInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var now = _time.GetUtcNow();
        var key = new SeriesKey(instance.Context.CalledAeTitle.Trim(), instance.SeriesInstanceUid);
        // The store calls this on the receiving association's flow, so the current span is that association's.
        var current = Activity.Current;
        current.Audit("instance.stored",
            new(TelemetryAttributes.StudyUid, _telemetry.Uid(instance.StudyInstanceUid)),
            new(TelemetryAttributes.SeriesUid, _telemetry.Uid(instance.SeriesInstanceUid)),
            new(TelemetryAttributes.SopInstanceUid, _telemetry.Uid(instance.SopInstanceUid)),
            new(TelemetryAttributes.CallingAeTitle, instance.Context.CallingAeTitle.Trim()),
            new(TelemetryAttributes.CalledAeTitle, key.CalledAeTitle),
            new("spineseg.duplicate", instance.Duplicate));
        lock (_gate)
        {
            if (!_pending.TryGetValue(key, out var series))
            {
                series = new Pending(instance.StudyInstanceUid, instance.SeriesInstanceUid, instance.Header, instance.Context.CallingAeTitle, key.CalledAeTitle, now)
                {
                    Trace = current?.Context ?? default,
                };
                _pending.Add(key, series);
            }
            // The store names a file by its UIDs' hashes, so the path also identifies the instance (after a Restore).
            if (series.SopInstances.Add(instance.SopInstanceUid) && !series.Paths.Contains(instance.Path))
            {
                series.Paths.Add(instance.Path);
                series.LastReceivedAt = now;
            }
            series.Associations.Add(instance.Context.AssociationId);
        }
    }

    /// <summary>An association ended; with <see cref="SeriesAssemblyOptions.CompleteOnAssociationRelease"/> its series are complete.</summary>
    public void OnAssociationEnded(AssociationEndedEventArgs association)
    {
        ArgumentNullException.ThrowIfNull(association);
        if (!options.CompleteOnAssociationRelease || association.Reason != AssociationEndReason.Released)
        {
            return;
        }
        lock (_gate)
        {
            foreach (var series in _pending.Values.Where(s => s.Associations.Contains(association.AssociationId)))
            {
                _released.Add(series.Key);
            }
        }
    }

    /// <summary>Removes and returns every series that is complete now.</summary>
    public IReadOnlyList<AssembledSeries> TakeComplete() => Take(all: false);

    /// <summary>Removes and returns every series, complete or not (the node is stopping and keeps them for its next start).</summary>
    public IReadOnlyList<AssembledSeries> TakeAll() => Take(all: true);

    private List<AssembledSeries> Take(bool all)
    {
        var now = _time.GetUtcNow();
        var taken = new List<AssembledSeries>();
        lock (_gate)
        {
            foreach (var series in _pending.Values.ToList())
            {
                var quiet = now - series.LastReceivedAt >= options.QuietPeriod;
                var released = _released.Contains(series.Key);
                var watchdog = now - series.FirstReceivedAt >= options.MaxAssemblyTime;
                if (!quiet && !released && !watchdog && !all)
                {
                    continue;
                }
                _pending.Remove(series.Key);
                _released.Remove(series.Key);
                taken.Add(new AssembledSeries(series.StudyInstanceUid, series.SeriesInstanceUid, [.. series.Paths], series.Header,
                    series.CallingAeTitle, series.CalledAeTitle, series.FirstReceivedAt, series.LastReceivedAt, watchdog && !quiet && !released, series.Trace));
            }
        }
        return taken;
    }

    /// <summary>
    /// Puts a taken series back (its job could not be published), merged with anything that arrived since, so the
    /// next pass completes it again; nothing received is lost.
    /// </summary>
    public void Restore(AssembledSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        lock (_gate)
        {
            var key = new SeriesKey(series.CalledAeTitle, series.SeriesInstanceUid);
            if (!_pending.TryGetValue(key, out var pending))
            {
                pending = new Pending(series.StudyInstanceUid, series.SeriesInstanceUid, series.Header, series.CallingAeTitle, series.CalledAeTitle, series.FirstReceivedAt)
                {
                    LastReceivedAt = series.LastReceivedAt,
                    Trace = series.Trace,
                };
                _pending.Add(key, pending);
            }
            foreach (var path in series.InstancePaths.Where(p => !pending.Paths.Contains(p)))
            {
                pending.Paths.Add(path);
            }
        }
    }

    /// <summary>A series as received on one of the node's AE titles (the title trimmed, as the negotiator compares it).</summary>
    private readonly record struct SeriesKey(string CalledAeTitle, string SeriesInstanceUid);

    private sealed class Pending(string study, string series, DicomDataset header, string callingAeTitle, string calledAeTitle, DateTimeOffset first)
    {
        public SeriesKey Key { get; } = new(calledAeTitle, series);

        public string StudyInstanceUid { get; } = study;

        public string SeriesInstanceUid { get; } = series;

        public string CalledAeTitle { get; } = calledAeTitle;

        public DicomDataset Header { get; } = header;

        public string CallingAeTitle { get; } = callingAeTitle;

        public DateTimeOffset FirstReceivedAt { get; } = first;

        public DateTimeOffset LastReceivedAt { get; set; } = first;

        public HashSet<string> SopInstances { get; } = new(StringComparer.Ordinal);

        public List<string> Paths { get; } = [];

        public HashSet<long> Associations { get; } = [];

        public ActivityContext Trace { get; init; }
    }
}
