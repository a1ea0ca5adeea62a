using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Segmentation.Inference;
using SpineSegDiff.Telemetry;

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
    TimeProvider? time = null,
    WorkerTelemetry? telemetry = null) : IConsumer<SegmentationRequested>
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly WorkerTelemetry _telemetry = telemetry ?? new WorkerTelemetry(new TelemetryOptions());

    /// <summary>The pipeline's stages as span names, in the order they are laid out under the job span.</summary>
    private static readonly (Stage Stage, string Span)[] StageSpans =
    [
        (Stage.Preprocessing, "preprocessing"),
        (Stage.Presegmentation, "network.presegmentation"),
        (Stage.ImageEncoder, "network.image_encoder"),
        (Stage.Denoiser, "network.denoiser"),
        (Stage.Sampling, "sampling"),
        (Stage.Fusion, "fusion"),
        (Stage.Postprocessing, "postprocessing"),
    ];

    public async Task Consume(ConsumeContext<SegmentationRequested> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = _time.GetTimestamp();
        var job = context.Message;
        var privacy = _telemetry.Options;
        // A child of MassTransit's consume span, which continues the gateway's trace from the message headers.
        using var activity = WorkerTelemetry.Source.StartActivity("segmentation.job", ActivityKind.Internal);
        activity?.SetTag(TelemetryAttributes.CorrelationId, job.CorrelationId.ToString());
        activity?.SetTag(TelemetryAttributes.StudyUid, privacy.Uid(job.StudyInstanceUid));
        activity?.SetTag(TelemetryAttributes.SeriesUid, privacy.Uid(job.SeriesInstanceUid));
        activity?.SetTag(TelemetryAttributes.Rule, job.RuleName);
        activity?.SetTag(TelemetryAttributes.Profile, job.Profile);
        activity?.SetTag(TelemetryAttributes.Instances, job.InstancePaths.Count);
        // From the gateway's publish to this consumer: time in the queue (the clocks of two hosts, so approximate).
        var now = _time.GetUtcNow();
        var waited = now - job.RequestedAt > TimeSpan.Zero ? now - job.RequestedAt : TimeSpan.Zero;
        _telemetry.Stage("wait", waited.TotalSeconds);
        if (activity is not null)
        {
            WorkerTelemetry.Source.RecordSpan("job.wait", now - waited, waited, activity.Context);
        }
        try
        {
            await SegmentAsync(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The bus cancels the job's token only when this worker stops (SIGTERM, Ctrl+C). The cancellation goes
            // back to the bus unchanged, which then neither retries nor faults the job: it is not acknowledged, so
            // the broker hands it to another worker (or to this one after its restart) and it is done from the start.
            activity?.SetTag("spineseg.outcome", "handed-back");
            _telemetry.Failed("HandedBack");
            LogHandedBack(context.Message.CorrelationId, _time.GetElapsedTime(started).TotalSeconds);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Thrown on to the bus, which retries the job and finally parks it in _error: the span shows the
            // exception's type only (its message may quote a path or a value from the data).
            activity?.SetTag("spineseg.outcome", "error");
            activity.Failed(ex.GetType().Name);
            _telemetry.Failed("Error");
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
        _telemetry.Started(profile.Name);
        var jobSpan = Activity.Current;
        var loadingStarted = _time.GetUtcNow();
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
        var parent = jobSpan?.Context ?? default;
        WorkerTelemetry.Source.RecordSpan("loading", loadingStarted, loaded, parent);
        _telemetry.Stage("loading", loaded.TotalSeconds);

        SeriesSegmentationResult run;
        var pipelineStarted = _time.GetUtcNow();
        try
        {
            run = new SeriesSegmentationPipeline(models.Models).Run(instances, profile, options.Seed, null, cancellationToken);
        }
        catch (UnsupportedSeriesException ex)
        {
            await FailAsync(context, "UnsupportedSeries", ex.Message).ConfigureAwait(false);
            return;
        }

        _telemetry.ModelsLoaded(models.Models.Versions);
        // The pipeline measures its stages (StageTimings) but knows nothing of tracing: its stages become child spans
        // laid end to end from its start. Network calls and sampling alternate in reality; each span's length is the
        // stage's total, so the layout is approximate while the durations are exact.
        var at = pipelineStarted;
        foreach (var (stage, span) in StageSpans)
        {
            var elapsed = run.Timings[stage];
            if (elapsed > TimeSpan.Zero)
            {
                at = WorkerTelemetry.Source.RecordSpan(span, at, elapsed, parent);
                _telemetry.Stage(span, elapsed.TotalSeconds);
            }
        }

        var writingStarted = _time.GetUtcNow();
        clock.Restart();
        var directory = results.DirectoryFor(job.CorrelationId);
        var previews = SegmentationFiles.Write(directory, run.Series, run.Result, run.Segmentation, profile, options.Seed, models.Models.Versions, run.Timings)
            .Where(f => f.EndsWith(".png", StringComparison.Ordinal))
            .ToList();
        var saved = PipelineResultObjects.Write(instances, run, models.Models.Versions, profile, Path.Combine(directory, "dicom"));
        var writing = clock.Elapsed;
        WorkerTelemetry.Source.RecordSpan("writing", writingStarted, writing, parent, new KeyValuePair<string, object?>("spineseg.objects", saved.Count));
        _telemetry.Stage("writing", writing.TotalSeconds);

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
        jobSpan?.SetTag("spineseg.outcome", "completed");
        jobSpan.Audit("result.produced",
            new(TelemetryAttributes.CorrelationId, job.CorrelationId.ToString()),
            new(TelemetryAttributes.StudyUid, _telemetry.Options.Uid(job.StudyInstanceUid)),
            new(TelemetryAttributes.SeriesUid, _telemetry.Options.Uid(job.SeriesInstanceUid)),
            new(TelemetryAttributes.Profile, profile.Name),
            new(TelemetryAttributes.ModelVersions, string.Join(",", models.Models.Versions.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + "=" + v.Value))),
            new("spineseg.objects", saved.Count));
        _telemetry.Completed(profile.Name);
        await context.Publish(completed, cancellationToken).ConfigureAwait(false);
        LogCompleted(job.CorrelationId, saved.Count, run.Timings.Total.TotalSeconds + loaded.TotalSeconds + writing.TotalSeconds);
    }

    private async Task FailAsync(ConsumeContext<SegmentationRequested> context, string kind, string reason)
    {
        var job = context.Message;
        _telemetry.Failed(kind);
        Activity.Current?.SetTag("spineseg.outcome", kind);
        Activity.Current.Failed(kind);
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
