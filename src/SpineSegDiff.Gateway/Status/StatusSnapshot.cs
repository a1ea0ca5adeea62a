using System.Text.Json;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Gateway.Jobs;

namespace SpineSegDiff.Gateway.Status;

/// <summary>Where a study is in the node, as the status page names it.</summary>
public enum StudyState
{
    /// <summary>Routed and published; waiting for a worker or being segmented.</summary>
    Segmenting,

    /// <summary>Results written; the gateway has not queued them for export yet.</summary>
    Segmented,

    /// <summary>Results queued for a destination, not all delivered yet.</summary>
    Exporting,

    /// <summary>Results delivered to every destination (or the rule names none).</summary>
    Exported,

    /// <summary>An export of the results was parked: a person has to look at it (and may retry it).</summary>
    Parked,

    /// <summary>The worker refused the series (kind and reason say why).</summary>
    Failed,
}

/// <summary>One study (one routed series, one correlation id) on the status page. Nothing patient-identifying.</summary>
public sealed record StudyStatus(
    Guid Id,
    StudyState State,
    DateTimeOffset LastChange,
    DateTimeOffset? ReceivedAt,
    DateTimeOffset? RequestedAt,
    string? Rule,
    string? Profile,
    IReadOnlyList<KeyValuePair<string, double>> StageSeconds,
    IReadOnlyDictionary<string, string> ModelVersions,
    IReadOnlyList<string> Previews,
    string? Detail);

/// <summary>A parked export item with what the operator needs to decide on a retry.</summary>
public sealed record ParkedExport(string ItemId, string Destination, Guid? StudyId, string Kind, string Reason, DateTimeOffset ParkedAt, int Attempts, int Files);

/// <summary>How much waits where: series still arriving, jobs without an answer, export items.</summary>
public sealed record QueueDepths(int AssemblingSeries, int OpenJobs, int PendingExports, int ParkedExports);

/// <summary>Everything the status page shows, read at one moment from the gateway's own durable state.</summary>
public sealed record StatusSnapshot(
    DateTimeOffset TakenAt,
    IReadOnlyList<StudyStatus> Studies,
    QueueDepths Queues,
    IReadOnlyList<ParkedExport> Parked,
    IReadOnlyDictionary<string, string> ModelVersions);

/// <summary>
/// Builds a <see cref="StatusSnapshot"/> from what the gateway already keeps on disk, so the page needs no state of its
/// own and shows the same after a restart: open jobs (the job journal), refused series (jobs/failed/), results
/// (results/{id}/summary.json: stage timings, model versions; previews), and the export queue (pending and parked
/// items, matched by correlation id). Reads only; files that change or vanish while it reads are skipped.
/// </summary>
public sealed class StatusReader(string storeRoot, JobJournal journal, ExportQueue exports, SeriesAssembler? assembler, TimeProvider? time = null)
{
    private const string ResultsFolder = "results";
    private const string SummaryName = "summary.json";

    private readonly string _resultsDirectory = Path.Combine(Path.GetFullPath(storeRoot), ResultsFolder);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The folder of a study's results; the id is a Guid, so the path cannot leave results/.</summary>
    public string ResultDirectory(Guid id) => Path.Combine(_resultsDirectory, StudyIds.Format(id));

    public StatusSnapshot Read(int maxStudies)
    {
        var open = journal.PeekOpen();
        var failed = journal.ListFailed();
        var pending = exports.ListPending();
        var parkedItems = exports.ListParked();
        var pendingIds = pending.Select(i => CorrelationOf(i)).OfType<Guid>().ToHashSet();
        var parkedIds = parkedItems.Select(i => CorrelationOf(i)).OfType<Guid>().ToHashSet();
        var studies = new Dictionary<Guid, StudyStatus>();

        foreach (var result in ListResults())
        {
            var state = parkedIds.Contains(result.Id) ? StudyState.Parked
                : pendingIds.Contains(result.Id) ? StudyState.Exporting
                : open.Any(j => j.CorrelationId == result.Id) ? StudyState.Segmented
                : StudyState.Exported;
            studies[result.Id] = result with { State = state };
        }
        foreach (var job in open)
        {
            if (studies.TryGetValue(job.CorrelationId, out var known))
            {
                studies[job.CorrelationId] = known with { ReceivedAt = job.ReceivedAt, RequestedAt = job.RequestedAt, Rule = job.RuleName };
                continue;
            }
            studies[job.CorrelationId] = new StudyStatus(job.CorrelationId, StudyState.Segmenting, job.RequestedAt, job.ReceivedAt, job.RequestedAt, job.RuleName, job.Profile,
                [], new Dictionary<string, string>(), [], $"{job.InstancePaths.Count} instances, waiting for or in a worker");
        }
        foreach (var failure in failed)
        {
            studies[failure.CorrelationId] = new StudyStatus(failure.CorrelationId, StudyState.Failed, failure.FailedAt, failure.ReceivedAt, failure.RequestedAt, failure.RuleName,
                failure.Profile, [], new Dictionary<string, string>(), [], $"{failure.Kind}: {failure.Reason}");
        }

        var parked = parkedItems.Select(i => new ParkedExport(
            i.Id, i.Destination, CorrelationOf(i), i.Park?.Kind.ToString() ?? "unknown", i.Park?.Reason ?? i.LastError ?? "", i.Park?.ParkedAt ?? i.CreatedAt, i.Attempts, i.Files.Count)).ToList();
        var recent = studies.Values.OrderByDescending(s => s.LastChange).Take(maxStudies).ToList();
        var models = recent.Where(s => s.ModelVersions.Count > 0).Select(s => s.ModelVersions).FirstOrDefault() ?? new Dictionary<string, string>();
        return new StatusSnapshot(_time.GetUtcNow(), recent, new QueueDepths(assembler?.PendingCount ?? 0, open.Count, pending.Count, parkedItems.Count), parked, models);
    }

    private static Guid? CorrelationOf(ExportItem item) => Guid.TryParse(item.CorrelationId, out var id) ? id : null;

    private IEnumerable<StudyStatus> ListResults()
    {
        if (!Directory.Exists(_resultsDirectory))
        {
            yield break;
        }
        foreach (var directory in Directory.EnumerateDirectories(_resultsDirectory))
        {
            // Only folders named like our ids: anything else in results/ is not a study of ours.
            if (!StudyIds.TryParse(Path.GetFileName(directory), out var id))
            {
                continue;
            }
            var summary = Path.Combine(directory, SummaryName);
            if (ReadSummary(summary) is not { } parsed)
            {
                continue;
            }
            var previews = StudyIds.PreviewNames.Where(n => File.Exists(Path.Combine(directory, n))).ToList();
            yield return new StudyStatus(id, StudyState.Exported, new DateTimeOffset(File.GetLastWriteTimeUtc(summary), TimeSpan.Zero), null, null, null,
                parsed.Profile, parsed.Stages, parsed.Models, previews, null);
        }
    }

    private static (string? Profile, IReadOnlyList<KeyValuePair<string, double>> Stages, IReadOnlyDictionary<string, string> Models)? ReadSummary(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            string? profile = root.TryGetProperty("profile", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("name", out var n) ? n.GetString() : null;
            var stages = new List<KeyValuePair<string, double>>();
            if (root.TryGetProperty("timingsSeconds", out var timings) && timings.ValueKind == JsonValueKind.Object)
            {
                foreach (var stage in timings.EnumerateObject())
                {
                    // denoiserSteps is a count, not seconds; total is the page's own sum.
                    if (stage.Value.ValueKind == JsonValueKind.Number && !stage.Name.EndsWith("Steps", StringComparison.Ordinal) && stage.Name != "total")
                    {
                        stages.Add(new(stage.Name, stage.Value.GetDouble()));
                    }
                }
            }
            var models = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("models", out var m) && m.ValueKind == JsonValueKind.Object)
            {
                foreach (var model in m.EnumerateObject())
                {
                    models[model.Name] = model.Value.ToString();
                }
            }
            return (profile, stages, models);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            // Not written completely yet, or removed by retention while we read.
            return null;
        }
    }
}
