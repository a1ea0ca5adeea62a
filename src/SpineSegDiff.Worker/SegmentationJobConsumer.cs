using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Segmentation.Inference;

namespace SpineSegDiff.Worker;

/// <summary>
/// Runs one segmentation job: reads the series from the shared store, segments it with the rule's profile, writes
/// the DICOM result objects and previews into results/{correlation id}/ in the store, and publishes
/// <see cref="SegmentationCompleted"/>. A series the pipeline cannot segment (or whose files are gone) is answered
/// with <see cref="SegmentationFailed"/> at once, since no retry would help; any other error is thrown, so the bus
/// retries the job and finally moves it to the _error queue.
/// </summary>
public sealed partial class SegmentationJobConsumer(
    LoadedModels models,
    WorkerOptions options,
    ResultStore results,
    ILogger<SegmentationJobConsumer> logger,
    TimeProvider? time = null) : IConsumer<SegmentationRequested>
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task Consume(ConsumeContext<SegmentationRequested> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = _time.GetTimestamp();
        try
        {
            await SegmentAsync(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The bus cancels the job's token only when this worker stops (SIGTERM, Ctrl+C). The cancellation goes
            // back to the bus unchanged, which then neither retries nor faults the job: it is not acknowledged, so
            // the broker hands it to another worker (or to this one after its restart) and it is done from the start.
            LogHandedBack(context.Message.CorrelationId, _time.GetElapsedTime(started).TotalSeconds);
            throw;
        }
    }

    private async Task SegmentAsync(ConsumeContext<SegmentationRequested> context)
    {
        var job = context.Message;
        var cancellationToken = context.CancellationToken;
        var profile = InferenceProfile.FromName(job.Profile);
        if (profile is null)
        {
            await FailAsync(context, "UnsupportedProfile", $"Unknown inference profile '{job.Profile}'.").ConfigureAwait(false);
            return;
        }
        LogStarted(job.CorrelationId, job.InstancePaths.Count, profile.Name);
        var clock = Stopwatch.StartNew();

        IReadOnlyList<DicomDataset> instances;
        try
        {
            instances = job.InstancePaths.Select(p => DicomFile.Open(results.InStore(p)).Dataset).ToList();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            await FailAsync(context, "MissingInstances", "Instances of the series are no longer in the store (retention or manual deletion).").ConfigureAwait(false);
            return;
        }
        catch (DicomFormatException ex)
        {
            await FailAsync(context, "UnsupportedSeries", $"An instance cannot be decoded: {ex.Message}").ConfigureAwait(false);
            return;
        }
        var loaded = clock.Elapsed;

        SeriesSegmentationResult run;
        try
        {
            run = new SeriesSegmentationPipeline(models.Models).Run(instances, profile, options.Seed, null, cancellationToken);
        }
        catch (UnsupportedSeriesException ex)
        {
            await FailAsync(context, "UnsupportedSeries", ex.Message).ConfigureAwait(false);
            return;
        }

        clock.Restart();
        var directory = results.DirectoryFor(job.CorrelationId);
        var previews = SegmentationFiles.Write(directory, run.Series, run.Result, run.Segmentation, profile, options.Seed, models.Models.Versions, run.Timings)
            .Where(f => f.EndsWith(".png", StringComparison.Ordinal))
            .ToList();
        var saved = PipelineResultObjects.Write(instances, run, models.Models.Versions, profile, Path.Combine(directory, "dicom"));
        var writing = clock.Elapsed;

        var stages = new Dictionary<string, double>(run.Timings.ToSeconds(), StringComparer.Ordinal)
        {
            ["loading"] = Math.Round(loaded.TotalSeconds, 3),
            ["writing"] = Math.Round(writing.TotalSeconds, 3),
        };
        var completed = new SegmentationCompleted(
            job.CorrelationId,
            job.StudyInstanceUid,
            job.SeriesInstanceUid,
            saved.Select(f => new ResultObjectReference(f.Kind.ToString(), results.Relative(f.Path), f.SopClassUid, f.SeriesInstanceUid, f.SopInstanceUid)).ToList(),
            previews.Select(results.Relative).ToList(),
            models.Models.Versions,
            profile.Name,
            stages,
            job.Destinations,
            _time.GetUtcNow());
        await context.Publish(completed, cancellationToken).ConfigureAwait(false);
        LogCompleted(job.CorrelationId, saved.Count, run.Timings.Total.TotalSeconds + loaded.TotalSeconds + writing.TotalSeconds);
    }

    private async Task FailAsync(ConsumeContext<SegmentationRequested> context, string kind, string reason)
    {
        var job = context.Message;
        LogFailed(job.CorrelationId, kind, reason);
        await context.Publish(new SegmentationFailed(job.CorrelationId, job.StudyInstanceUid, job.SeriesInstanceUid, kind, reason, _time.GetUtcNow()),
            context.CancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Job {CorrelationId}: segmenting {Instances} instances, profile {Profile}")]
    private partial void LogStarted(Guid correlationId, int instances, string profile);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Job {CorrelationId}: {Objects} result objects written in {Seconds:F1} s")]
    private partial void LogCompleted(Guid correlationId, int objects, double seconds);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Job {CorrelationId} failed ({Kind}): {Reason}")]
    private partial void LogFailed(Guid correlationId, string kind, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Job {CorrelationId}: the worker is stopping; segmentation cancelled after {Seconds:F1} s and the job handed back to the queue for another worker")]
    private partial void LogHandedBack(Guid correlationId, double seconds);
}
