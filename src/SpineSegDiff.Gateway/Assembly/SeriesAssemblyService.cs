using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Jobs;
using SpineSegDiff.Gateway.Routing;
using SpineSegDiff.Gateway.Telemetry;
using SpineSegDiff.Telemetry;

namespace SpineSegDiff.Gateway.Assembly;

/// <summary>
/// Turns complete series into segmentation jobs: polls the assembler, applies the routing rules, and publishes
/// <see cref="SegmentationRequested"/> for a match. A series that matches no rule stays in the store until retention
/// removes it, and is logged as not routed with each rule's reason. Every published job is recorded in the
/// <see cref="JobJournal"/> first. At start, the series still being assembled at the last stop are put back, and, when
/// <paramref name="resumeUnansweredJobs"/> (the in-memory bus, which forgets its messages), the jobs published but
/// never answered are published again. Register it before the Storage SCP: it then starts before the first instance
/// arrives and stops after the last one was stored.
/// </summary>
public sealed partial class SeriesAssemblyService(
    SeriesAssembler assembler,
    SeriesRouter router,
    SeriesAssemblyOptions options,
    InstanceStore store,
    IPublishEndpoint publisher,
    JobJournal journal,
    bool resumeUnansweredJobs,
    ILogger<SeriesAssemblyService> logger,
    TimeProvider? time = null,
    GatewayTelemetry? telemetry = null) : BackgroundService
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly GatewayTelemetry _telemetry = telemetry ?? new GatewayTelemetry(new TelemetryOptions());
    private readonly Queue<SegmentationRequested> _unanswered = new();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        ResumeAfterRestart();
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await KeepAssemblingAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Saves the series still being assembled in the journal (at stop; also called by tests).</summary>
    public async Task KeepAssemblingAsync(CancellationToken cancellationToken)
    {
        var assembling = assembler.TakeAll();
        if (assembling.Count > 0)
        {
            await journal.SaveAssemblingAsync(assembling.Select(s => new AssemblingSeries(
                s.StudyInstanceUid, s.SeriesInstanceUid, s.InstancePaths.Select(p => Path.GetRelativePath(store.RootDirectory, p)).ToList(),
                s.CallingAeTitle, s.CalledAeTitle, s.FirstReceivedAt, s.LastReceivedAt)), cancellationToken).ConfigureAwait(false);
            LogAssemblingKept(assembling.Count);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PollInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await PublishCompleteAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>One pass: jobs to resume, then every complete series routed and published (also called by tests).</summary>
    public async Task PublishCompleteAsync(CancellationToken cancellationToken)
    {
        while (_unanswered.TryPeek(out var job))
        {
            try
            {
                await publisher.Publish(job, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPublishFailed(job.CorrelationId, ex.GetType().Name, ex.Message);
                break;
            }
            _unanswered.Dequeue();
            LogJobResumed(job.CorrelationId, job.InstancePaths.Count, job.RuleName);
        }
        foreach (var series in assembler.TakeComplete())
        {
            var correlationId = NewId.NextGuid();
            var privacy = _telemetry.Options;
            // The series' spans continue the trace of the association its first instance came on; the job's publish
            // (MassTransit) is a child of the routing span, so the worker's spans join the same trace.
            GatewayTelemetry.Source.RecordSpan("series.assembly", series.FirstReceivedAt, series.LastReceivedAt - series.FirstReceivedAt, series.Trace,
                new(TelemetryAttributes.CorrelationId, correlationId.ToString()),
                new(TelemetryAttributes.SeriesUid, privacy.Uid(series.SeriesInstanceUid)),
                new(TelemetryAttributes.Instances, series.InstancePaths.Count),
                new("spineseg.watchdog", series.Watchdog));
            using var activity = GatewayTelemetry.Source.StartActivity("series.route", ActivityKind.Internal, series.Trace);
            activity?.SetTag(TelemetryAttributes.CorrelationId, correlationId.ToString());
            activity?.SetTag(TelemetryAttributes.StudyUid, privacy.Uid(series.StudyInstanceUid));
            activity?.SetTag(TelemetryAttributes.SeriesUid, privacy.Uid(series.SeriesInstanceUid));
            activity?.SetTag(TelemetryAttributes.CallingAeTitle, series.CallingAeTitle.Trim());
            activity?.SetTag(TelemetryAttributes.CalledAeTitle, series.CalledAeTitle);
            activity?.SetTag(TelemetryAttributes.Instances, series.InstancePaths.Count);
            var facts = SeriesFacts.Of(series);
            var decision = router.Route(facts, series.CalledAeTitle);
            AuditRouting(activity, correlationId, series, decision.Rule?.Name, decision.Rule?.Profile, decision.Rule is null ? decision.Reason : null);
            if (series.Watchdog)
            {
                LogWatchdog(correlationId, series.InstancePaths.Count, options.MaxAssemblyTime);
            }
            if (decision.Rule is not { } rule)
            {
                _telemetry.NotRouted(series.CalledAeTitle);
                activity?.SetTag("spineseg.routed", false);
                LogNotRouted(correlationId, series.InstancePaths.Count, series.CallingAeTitle, series.CalledAeTitle, decision.Reason);
                continue;
            }
            var request = new SegmentationRequested(
                correlationId,
                series.StudyInstanceUid,
                series.SeriesInstanceUid,
                series.InstancePaths.Select(p => Path.GetRelativePath(store.RootDirectory, p)).ToList(),
                rule.Name,
                rule.Profile,
                rule.Destinations,
                series.CallingAeTitle,
                series.FirstReceivedAt,
                _time.GetUtcNow());
            // A publish that fails (broker down) must not lose the series: it goes back for the next pass.
            try
            {
                await journal.RecordAsync(request, cancellationToken).ConfigureAwait(false);
                await publisher.Publish(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                activity.Failed(ex.GetType().Name);
                LogPublishFailed(correlationId, ex.GetType().Name, ex.Message);
                journal.Complete(correlationId);
                assembler.Restore(series);
                continue;
            }
            _telemetry.Routed(rule.Name);
            activity?.SetTag("spineseg.routed", true);
            activity?.SetTag(TelemetryAttributes.Rule, rule.Name);
            activity?.SetTag(TelemetryAttributes.Profile, rule.Profile);
            LogRouted(correlationId, series.InstancePaths.Count, series.CallingAeTitle, series.CalledAeTitle, rule.Name, rule.Profile, facts.Weighting.ToString());
        }
    }

    /// <summary>The routing decision's audit event: the rule (or why none), AE titles, and patient data only if the operator allows it.</summary>
    private void AuditRouting(Activity? activity, Guid correlationId, AssembledSeries series, string? rule, string? profile, string? reason)
    {
        if (activity is null)
        {
            return;
        }
        var privacy = _telemetry.Options;
        var tags = new ActivityTagsCollection
        {
            [TelemetryAttributes.CorrelationId] = correlationId.ToString(),
            [TelemetryAttributes.StudyUid] = privacy.Uid(series.StudyInstanceUid),
            [TelemetryAttributes.SeriesUid] = privacy.Uid(series.SeriesInstanceUid),
            [TelemetryAttributes.CallingAeTitle] = series.CallingAeTitle.Trim(),
            [TelemetryAttributes.CalledAeTitle] = series.CalledAeTitle,
            [TelemetryAttributes.Instances] = series.InstancePaths.Count,
            ["spineseg.routed"] = rule is not null,
        };
        if (rule is not null)
        {
            tags[TelemetryAttributes.Rule] = rule;
            tags[TelemetryAttributes.Profile] = profile;
        }
        if (reason is not null)
        {
            tags[TelemetryAttributes.Reason] = reason;
        }
        foreach (var (key, value) in _telemetry.PatientData(series.Header))
        {
            tags[key] = value;
            activity.SetTag(key, value);
        }
        activity.AddEvent(new ActivityEvent(TelemetryNames.AuditPrefix + "routing.decision", tags: tags));
    }

    /// <summary>Puts back what the last run left: series being assembled, and unanswered jobs when resuming them (at start; also called by tests).</summary>
    public void ResumeAfterRestart()
    {
        var resumed = 0;
        foreach (var saved in journal.TakeAssembling())
        {
            var paths = saved.InstancePaths.Select(p => Path.GetFullPath(Path.Combine(store.RootDirectory, p))).Where(File.Exists).ToList();
            if (paths.Count == 0)
            {
                // Removed by retention or by hand while the node was down: nothing left to assemble.
                continue;
            }
            var header = DicomFile.Open(paths[0], DicomReadOptions.HeaderOnly).Dataset;
            assembler.Restore(new AssembledSeries(saved.StudyInstanceUid, saved.SeriesInstanceUid, paths, header,
                saved.CallingAeTitle, saved.CalledAeTitle, saved.FirstReceivedAt, saved.LastReceivedAt, Watchdog: false));
            resumed++;
        }
        if (resumed > 0)
        {
            LogAssemblingResumed(resumed);
        }
        var open = journal.Open();
        if (open.Count == 0)
        {
            return;
        }
        if (resumeUnansweredJobs)
        {
            foreach (var job in open)
            {
                _unanswered.Enqueue(job);
            }
            LogJobsToResume(open.Count);
        }
        else
        {
            LogJobsOnBroker(open.Count);
        }
    }

    [LoggerMessage(EventId = 3405, Level = LogLevel.Information, Message = "Stopping: {Series} series still being assembled are kept for the next start")]
    private partial void LogAssemblingKept(int series);

    [LoggerMessage(EventId = 3406, Level = LogLevel.Information, Message = "{Series} series still being assembled at the last stop are assembled again")]
    private partial void LogAssemblingResumed(int series);

    [LoggerMessage(EventId = 3407, Level = LogLevel.Information, Message = "{Jobs} segmentation jobs published before the last stop were never answered; publishing them again (the in-memory bus does not keep messages)")]
    private partial void LogJobsToResume(int jobs);

    [LoggerMessage(EventId = 3408, Level = LogLevel.Information, Message = "{Jobs} segmentation jobs published earlier are not answered yet; the broker holds them for the workers")]
    private partial void LogJobsOnBroker(int jobs);

    [LoggerMessage(EventId = 3409, Level = LogLevel.Information, Message = "Series {CorrelationId} ({Instances} instances) published again, rule {Rule}")]
    private partial void LogJobResumed(Guid correlationId, int instances, string rule);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Series {CorrelationId} ({Instances} instances from {CallingAeTitle}) on {CalledAeTitle} routed by rule {Rule}: profile {Profile}, weighting {Weighting}")]
    private partial void LogRouted(Guid correlationId, int instances, string callingAeTitle, string calledAeTitle, string rule, string profile, string weighting);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "Series {CorrelationId} ({Instances} instances from {CallingAeTitle}) on {CalledAeTitle} not routed: {Reason}; kept until retention removes it")]
    private partial void LogNotRouted(Guid correlationId, int instances, string callingAeTitle, string calledAeTitle, string reason);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Warning, Message = "Series {CorrelationId}: still receiving after {MaxAssemblyTime}; the watchdog completes it with {Instances} instances")]
    private partial void LogWatchdog(Guid correlationId, int instances, TimeSpan maxAssemblyTime);

    [LoggerMessage(EventId = 3404, Level = LogLevel.Error, Message = "Series {CorrelationId}: publishing the job failed ({ExceptionType}: {Reason}); retried on the next pass")]
    private partial void LogPublishFailed(Guid correlationId, string exceptionType, string reason);
}
