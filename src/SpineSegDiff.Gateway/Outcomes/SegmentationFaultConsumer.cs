using MassTransit;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Contracts.V1;

namespace SpineSegDiff.Gateway.Outcomes;

/// <summary>
/// Records, on the gateway, a job the workers gave up on: an unexpected error (not a series the pipeline refuses,
/// which is a <see cref="SegmentationFailed"/>) that persisted through the worker's in-place retries, after which the
/// bus moved the job to the segmentation-jobs_error queue and published this fault. Without it the study would just
/// never get results, with the only trace in some worker's log. Nothing is retried from here: the job waits in the
/// _error queue until an operator has fixed the cause (a broken model folder, a full disk) and moves it back. For
/// the same reason the job stays open in the <see cref="Jobs.JobJournal"/>: it is parked, not answered.
/// </summary>
public sealed partial class SegmentationFaultConsumer(ILogger<SegmentationFaultConsumer> logger) : IConsumer<Fault<SegmentationRequested>>
{
    public Task Consume(ConsumeContext<Fault<SegmentationRequested>> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var fault = context.Message;
        // Exception types and messages come from our code and libraries, which never put patient data into them; the
        // job itself (UIDs, paths) is not logged beyond its correlation id.
        var exceptions = fault.Exceptions.Select(e => $"{e.ExceptionType}: {e.Message}").Distinct(StringComparer.Ordinal).ToList();
        LogFaulted(fault.Message.CorrelationId, fault.Host?.MachineName ?? "unknown", exceptions.Count == 0 ? "no exception recorded" : string.Join("; ", exceptions));
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 3421, Level = LogLevel.Error,
        Message = "Series {CorrelationId}: the segmentation job faulted on worker host {WorkerHost} after its retries ({Exceptions}); it is parked in the _error queue and no results will be exported until it is moved back")]
    private partial void LogFaulted(Guid correlationId, string workerHost, string exceptions);
}
