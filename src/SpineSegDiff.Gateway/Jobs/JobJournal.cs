using System.Text.Json;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Gateway.Export;

namespace SpineSegDiff.Gateway.Jobs;

/// <summary>
/// The gateway's durable record of every segmentation job it has published and not yet seen answered, in
/// jobs/{correlation id}.json under the store (a Guid of ours, never a UID). The in-memory bus forgets a job when the
/// process stops; with the journal, <c>serve</c> publishes every unanswered job again at start, so a series received
/// and acknowledged to the PACS is segmented even if the node stopped in between. On RabbitMQ the broker's durable
/// queue already holds them, and the journal only counts them. Series still being assembled when the node stops are
/// kept in jobs/assembling/ and put back into the assembler at the next start, so an instance acknowledged to the PACS
/// a moment before a stop is not forgotten either.
/// </summary>
public sealed partial class JobJournal
{
    public const string Folder = "jobs";
    private const string AssemblingFolder = "assembling";
    private const string FailedFolder = "failed";

    /// <summary>Failure records kept for the status page; older ones are removed as new ones come.</summary>
    public const int MaxFailedRecords = 200;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ILogger<JobJournal> _logger;

    public JobJournal(string storeRoot, ILogger<JobJournal> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storeRoot);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Directory = Path.Combine(Path.GetFullPath(storeRoot), Folder);
        AssemblingDirectory = Path.Combine(Directory, AssemblingFolder);
        FailedDirectory = Path.Combine(Directory, FailedFolder);
        System.IO.Directory.CreateDirectory(AssemblingDirectory);
        System.IO.Directory.CreateDirectory(FailedDirectory);
    }

    /// <summary>jobs/failed/: one <see cref="FailedJob"/> per refused series, for the status page (no UIDs in them).</summary>
    public string FailedDirectory { get; }

    public string Directory { get; }

    public string AssemblingDirectory { get; }

    /// <summary>Records a job before it is published, so a crash right after the publish cannot lose it.</summary>
    public Task RecordAsync(SegmentationRequested job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return DurableFiles.WriteAtomicallyAsync(PathOf(job.CorrelationId), JsonSerializer.SerializeToUtf8Bytes(job, Json), cancellationToken);
    }

    /// <summary>The job was answered (results queued for export, or failed): nothing to replay.</summary>
    public void Complete(Guid correlationId)
    {
        var path = PathOf(correlationId);
        if (File.Exists(path))
        {
            File.Delete(path);
            DurableFiles.FlushDirectory(Directory);
        }
    }

    /// <summary>Jobs published and not yet answered (the open-jobs gauge and the status page's queue depth).</summary>
    public int OpenCount => System.IO.Directory.EnumerateFiles(Directory, "*.json").Count();

    /// <summary>Whether the job is still waiting for its answer (false for a duplicate answer).</summary>
    public bool IsOpen(Guid correlationId) => File.Exists(PathOf(correlationId));

    /// <summary>Every unanswered job, oldest first; an unreadable record is set aside as *.damaged and logged.</summary>
    public IReadOnlyList<SegmentationRequested> Open() => OpenJobs(setAsideDamaged: true);

    /// <summary>
    /// Every unanswered job, oldest first, without side effects: what the status page shows. Unreadable records are
    /// skipped here (<see cref="Open"/> sets them aside at the next start); a record removed meanwhile is skipped too.
    /// </summary>
    public IReadOnlyList<SegmentationRequested> PeekOpen() => OpenJobs(setAsideDamaged: false);

    /// <summary>
    /// Records that a series was refused, before the job is completed (so its rule and times are still in the journal).
    /// The journal itself forgets answered jobs; without this record the status page could not say a study failed.
    /// Only the kind and reason (which never hold patient data) and our own settings are kept, no UIDs.
    /// </summary>
    public async Task RecordFailureAsync(SegmentationFailed failed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failed);
        var open = TryRead<SegmentationRequested>(PathOf(failed.CorrelationId));
        var record = new FailedJob(failed.CorrelationId, failed.Kind, failed.Reason, failed.FailedAt, open?.RuleName, open?.Profile, open?.ReceivedAt, open?.RequestedAt);
        var path = Path.Combine(FailedDirectory, failed.CorrelationId.ToString("N") + ".json");
        await DurableFiles.WriteAtomicallyAsync(path, JsonSerializer.SerializeToUtf8Bytes(record, Json), cancellationToken).ConfigureAwait(false);
        // Bounded by count rather than by retention: the records are tiny and only the newest interest anyone.
        foreach (var old in new DirectoryInfo(FailedDirectory).EnumerateFiles("*.json").OrderByDescending(f => f.LastWriteTimeUtc).Skip(MaxFailedRecords))
        {
            old.Delete();
        }
    }

    /// <summary>The failure records, newest first; unreadable ones are skipped.</summary>
    public IReadOnlyList<FailedJob> ListFailed() =>
        System.IO.Directory.EnumerateFiles(FailedDirectory, "*.json")
            .Select(TryRead<FailedJob>)
            .OfType<FailedJob>()
            .OrderByDescending(f => f.FailedAt)
            .ToList();

    /// <summary>Keeps the series an assembler still collected at a stop (one durable file each).</summary>
    public async Task SaveAssemblingAsync(IEnumerable<AssemblingSeries> series, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(series);
        foreach (var one in series)
        {
            var path = Path.Combine(AssemblingDirectory, Guid.NewGuid().ToString("N") + ".json");
            await DurableFiles.WriteAtomicallyAsync(path, JsonSerializer.SerializeToUtf8Bytes(one, Json), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Returns and forgets the series saved at the last stop (unreadable ones are set aside as *.damaged).</summary>
    public IReadOnlyList<AssemblingSeries> TakeAssembling()
    {
        var saved = ReadRecords<AssemblingSeries>(AssemblingDirectory, (_, _) => true, setAsideDamaged: true);
        foreach (var (path, _) in saved)
        {
            File.Delete(path);
        }
        DurableFiles.FlushDirectory(AssemblingDirectory);
        return saved.Select(r => r.Record).ToList();
    }

    private List<SegmentationRequested> OpenJobs(bool setAsideDamaged) =>
        ReadRecords<SegmentationRequested>(Directory, (path, job) => job.CorrelationId.ToString("N") == Path.GetFileNameWithoutExtension(path), setAsideDamaged)
            .Select(r => r.Record)
            .OrderBy(j => j.RequestedAt)
            .ToList();

    /// <summary>
    /// The records of a folder that read and pass <paramref name="valid"/>; the others are skipped, or, with
    /// <paramref name="setAsideDamaged"/>, renamed to *.damaged (and logged) so they are looked at once, not at every start.
    /// </summary>
    private List<(string Path, T Record)> ReadRecords<T>(string directory, Func<string, T, bool> valid, bool setAsideDamaged)
        where T : class
    {
        var records = new List<(string Path, T Record)>();
        foreach (var path in System.IO.Directory.EnumerateFiles(directory, "*.json"))
        {
            if (TryRead<T>(path) is { } record && valid(path, record))
            {
                records.Add((path, record));
            }
            else if (setAsideDamaged && File.Exists(path))
            {
                File.Move(path, path + ".damaged", overwrite: true);
                LogDamaged(Path.GetFileName(path));
            }
        }
        return records;
    }

    private static T? TryRead<T>(string path)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            // Removed between the listing and the read (the job was answered), or damaged: not shown.
            return null;
        }
    }

    private string PathOf(Guid correlationId) => Path.Combine(Directory, correlationId.ToString("N") + ".json");

    [LoggerMessage(EventId = 3430, Level = LogLevel.Warning, Message = "Journal record {Name} is unreadable; set aside as .damaged for inspection (its series is not resumed)")]
    private partial void LogDamaged(string name);
}

/// <summary>A series the assembler was still collecting, as kept over a restart (paths relative to the store root).</summary>
public sealed record AssemblingSeries(
    string StudyInstanceUid,
    string SeriesInstanceUid,
    IReadOnlyList<string> InstancePaths,
    string CallingAeTitle,
    string CalledAeTitle,
    DateTimeOffset FirstReceivedAt,
    DateTimeOffset LastReceivedAt);

/// <summary>A series the worker refused, as the status page shows it: our settings, times and the worker's reason, no UIDs.</summary>
public sealed record FailedJob(
    Guid CorrelationId,
    string Kind,
    string Reason,
    DateTimeOffset FailedAt,
    string? RuleName,
    string? Profile,
    DateTimeOffset? ReceivedAt,
    DateTimeOffset? RequestedAt);
