using MassTransit;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Gateway.Jobs;

namespace SpineSegDiff.Gateway.Outcomes;

/// <summary>
/// Records, on the gateway, that a series will get no results: the worker's reason (which never holds patient data)
/// goes into the gateway's log next to the routing decision of the same correlation id, so an operator sees the whole
/// journey of a study in one place. Nothing is exported and nothing is retried: the worker only fails a job when no
/// retry could help, so the job is closed in the journal.
/// </summary>
public sealed partial class SegmentationFailedConsumer(JobJournal journal, ILogger<SegmentationFailedConsumer> logger) : IConsumer<SegmentationFailed>
{
    public async Task Consume(ConsumeContext<SegmentationFailed> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        LogFailed(message.CorrelationId, message.Kind, message.Reason);
        // Before Complete: the record takes the rule and times from the open journal entry.
        await journal.RecordFailureAsync(message, context.CancellationToken).ConfigureAwait(false);
        journal.Complete(message.CorrelationId);
    }

    [LoggerMessage(EventId = 3420, Level = LogLevel.Warning, Message = "Series {CorrelationId}: segmentation failed ({Kind}): {Reason}; no results will be exported")]
    private partial void LogFailed(Guid correlationId, string kind, string reason);
}
