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
/// queue already holds them, and the journal only counts them.
/// </summary>
public sealed partial class JobJournal
{
    public const string Folder = "jobs";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ILogger<JobJournal> _logger;

    public JobJournal(string storeRoot, ILogger<JobJournal> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storeRoot);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Directory = Path.Combine(Path.GetFullPath(storeRoot), Folder);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

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

    private string PathOf(Guid correlationId) => Path.Combine(Directory, correlationId.ToString("N") + ".json");

    [LoggerMessage(EventId = 3430, Level = LogLevel.Warning, Message = "Job record {Name} is unreadable; set aside as .damaged for inspection (its series is not replayed)")]
    private partial void LogDamaged(string name);
}
