using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Routing;

namespace SpineSegDiff.Gateway.Assembly;

/// <summary>
/// Turns complete series into segmentation jobs: polls the assembler, applies the routing rules, and publishes
/// <see cref="SegmentationRequested"/> for a match. A series that matches no rule stays in the store until retention
/// removes it, and is logged as not routed with each rule's reason.
/// </summary>
public sealed partial class SeriesAssemblyService(
    SeriesAssembler assembler,
    SeriesRouter router,
    SeriesAssemblyOptions options,
    InstanceStore store,
    IPublishEndpoint publisher,
    ILogger<SeriesAssemblyService> logger,
    TimeProvider? time = null) : BackgroundService
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PollInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await PublishCompleteAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>One pass: every complete series routed and published (also called by tests).</summary>
    public async Task PublishCompleteAsync(CancellationToken cancellationToken)
    {
        foreach (var series in assembler.TakeComplete())
        {
            var correlationId = NewId.NextGuid();
            var facts = SeriesFacts.Of(series);
            var decision = router.Route(facts, series.CalledAeTitle);
            if (series.Watchdog)
            {
                LogWatchdog(correlationId, series.InstancePaths.Count, options.MaxAssemblyTime);
            }
            if (decision.Rule is not { } rule)
            {
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
                await publisher.Publish(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPublishFailed(correlationId, ex.GetType().Name, ex.Message);
                assembler.Restore(series);
                continue;
            }
            LogRouted(correlationId, series.InstancePaths.Count, series.CallingAeTitle, series.CalledAeTitle, rule.Name, rule.Profile, facts.Weighting.ToString());
        }
    }

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Series {CorrelationId} ({Instances} instances from {CallingAeTitle}) on {CalledAeTitle} routed by rule {Rule}: profile {Profile}, weighting {Weighting}")]
    private partial void LogRouted(Guid correlationId, int instances, string callingAeTitle, string calledAeTitle, string rule, string profile, string weighting);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "Series {CorrelationId} ({Instances} instances from {CallingAeTitle}) on {CalledAeTitle} not routed: {Reason}; kept until retention removes it")]
    private partial void LogNotRouted(Guid correlationId, int instances, string callingAeTitle, string calledAeTitle, string reason);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Warning, Message = "Series {CorrelationId}: still receiving after {MaxAssemblyTime}; the watchdog completes it with {Instances} instances")]
    private partial void LogWatchdog(Guid correlationId, int instances, TimeSpan maxAssemblyTime);

    [LoggerMessage(EventId = 3404, Level = LogLevel.Error, Message = "Series {CorrelationId}: publishing the job failed ({ExceptionType}: {Reason}); retried on the next pass")]
    private partial void LogPublishFailed(Guid correlationId, string exceptionType, string reason);
}
