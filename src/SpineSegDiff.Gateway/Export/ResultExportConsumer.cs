using MassTransit;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Jobs;

namespace SpineSegDiff.Gateway.Export;

/// <summary>
/// Hands a completed segmentation's DICOM objects to the durable export queue, one item per destination. The
/// message is acknowledged only after every item is durable, so a crash in between redelivers it (an item may then
/// be queued twice; a PACS takes a resent instance as the same instance). Then the job is closed in the journal.
/// </summary>
public sealed partial class ResultExportConsumer(ExportQueue queue, InstanceStore store, JobJournal journal, ILogger<ResultExportConsumer> logger) : IConsumer<SegmentationCompleted>
{
    public async Task Consume(ConsumeContext<SegmentationCompleted> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        var files = message.Results.Select(r => Path.GetFullPath(Path.Combine(store.RootDirectory, r.Path))).ToList();
        foreach (var destination in message.Destinations)
        {
            var item = await queue.EnqueueAsync(destination, message.CorrelationId.ToString(), files, context.CancellationToken).ConfigureAwait(false);
            LogQueued(message.CorrelationId, files.Count, destination, item.Id);
        }
        if (message.Destinations.Count == 0)
        {
            LogNoDestination(message.CorrelationId);
        }
        journal.Complete(message.CorrelationId);
    }

    [LoggerMessage(EventId = 3410, Level = LogLevel.Information, Message = "Results of {CorrelationId}: {Files} objects queued for {Destination} (export item {ItemId})")]
    private partial void LogQueued(Guid correlationId, int files, string destination, string itemId);

    [LoggerMessage(EventId = 3411, Level = LogLevel.Warning, Message = "Results of {CorrelationId}: the rule names no destination; results stay in the store only")]
    private partial void LogNoDestination(Guid correlationId);
}
