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

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ILogger<JobJournal> _logger;

    public JobJournal(string storeRoot, ILogger<JobJournal> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storeRoot);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Directory = Path.Combine(Path.GetFullPath(storeRoot), Folder);
        AssemblingDirectory = Path.Combine(Directory, AssemblingFolder);
        System.IO.Directory.CreateDirectory(AssemblingDirectory);
    }

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

    /// <summary>Whether the job is still waiting for its answer (false for a duplicate answer).</summary>
    public bool IsOpen(Guid correlationId) => File.Exists(PathOf(correlationId));

    /// <summary>Every unanswered job, oldest first; an unreadable record is set aside as *.damaged and logged.</summary>
    public IReadOnlyList<SegmentationRequested> Open()
    {
        var jobs = new List<SegmentationRequested>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*.json"))
        {
            try
            {
                var job = JsonSerializer.Deserialize<SegmentationRequested>(File.ReadAllBytes(path), Json);
                if (job is not null && job.CorrelationId.ToString("N") == Path.GetFileNameWithoutExtension(path))
                {
                    jobs.Add(job);
                    continue;
                }
            }
            catch (JsonException)
            {
            }
            File.Move(path, path + ".damaged", overwrite: true);
            LogDamaged(Path.GetFileName(path));
        }
        return jobs.OrderBy(j => j.RequestedAt).ToList();
    }

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
        var series = new List<AssemblingSeries>();
        foreach (var path in System.IO.Directory.EnumerateFiles(AssemblingDirectory, "*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize<AssemblingSeries>(File.ReadAllBytes(path), Json) is { } one)
                {
                    series.Add(one);
                    File.Delete(path);
                    continue;
                }
            }
            catch (JsonException)
            {
            }
            File.Move(path, path + ".damaged", overwrite: true);
            LogDamaged(Path.GetFileName(path));
        }
        DurableFiles.FlushDirectory(AssemblingDirectory);
        return series;
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
