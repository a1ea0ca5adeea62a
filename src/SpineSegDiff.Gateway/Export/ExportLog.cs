using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Gateway.Export;

/// <summary>
/// Log messages of the exporter (event ids 3500-3599: queue 3500-3519, dispatcher 3520-3549). Items are named by
/// their generated id, destinations by their configured name; reasons are protocol text; no patient data.
/// </summary>
internal static partial class ExportLog
{
    [LoggerMessage(EventId = 3520, Level = LogLevel.Information, Message = "Exporter started: {Destinations} destinations, queue at {Root}, {Pending} pending")]
    public static partial void Started(ILogger logger, int destinations, string root, int pending);

    [LoggerMessage(EventId = 3521, Level = LogLevel.Information, Message = "Export item {ItemId} delivered to {Destination} (correlation {CorrelationId}, {Files} files, {Attempts} sends in all)")]
    public static partial void Delivered(ILogger logger, string itemId, string destination, string correlationId, int files, int attempts);

    [LoggerMessage(EventId = 3522, Level = LogLevel.Warning, Message = "Export item {ItemId} to {Destination}: round {Round} failed after {Attempts} sends ({Reason}); next round at {NextAttemptAt:o}")]
    public static partial void RoundFailed(ILogger logger, string itemId, string destination, int round, int attempts, string reason, DateTimeOffset nextAttemptAt);

    [LoggerMessage(EventId = 3523, Level = LogLevel.Error, Message = "Export item {ItemId} to {Destination} PARKED: permanent failure: {Reason} (correlation {CorrelationId}; not retried until an operator retries it)")]
    public static partial void ParkedPermanent(ILogger logger, string itemId, string destination, string reason, string correlationId);

    [LoggerMessage(EventId = 3524, Level = LogLevel.Error, Message = "Export item {ItemId} to {Destination} PARKED: not delivered within {MaxPendingAge} ({Attempts} sends; last error: {Reason}; correlation {CorrelationId})")]
    public static partial void ParkedExpired(ILogger logger, string itemId, string destination, TimeSpan maxPendingAge, int attempts, string reason, string correlationId);

    [LoggerMessage(EventId = 3525, Level = LogLevel.Warning, Message = "Export destination {Destination}: circuit opened for {BreakDuration} after repeated transient failures; nothing is sent there meanwhile")]
    public static partial void CircuitOpened(ILogger logger, string destination, TimeSpan breakDuration);

    [LoggerMessage(EventId = 3526, Level = LogLevel.Information, Message = "Export destination {Destination}: circuit half-open, trying one send")]
    public static partial void CircuitHalfOpened(ILogger logger, string destination);

    [LoggerMessage(EventId = 3527, Level = LogLevel.Information, Message = "Export destination {Destination}: circuit closed, sending again")]
    public static partial void CircuitClosed(ILogger logger, string destination);

    [LoggerMessage(EventId = 3528, Level = LogLevel.Debug, Message = "Export item {ItemId} to {Destination}: send {Attempt} failed ({Reason}); retrying in {Delay}")]
    public static partial void Retrying(ILogger logger, string itemId, string destination, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 3529, Level = LogLevel.Debug, Message = "Export item {ItemId}: destination {Destination} has an open circuit; skipped this pass")]
    public static partial void SkippedOpenCircuit(ILogger logger, string itemId, string destination);

    [LoggerMessage(EventId = 3530, Level = LogLevel.Error, Message = "Export sender for {Destination} failed unexpectedly on item {ItemId}; treated as transient")]
    public static partial void SenderFailed(ILogger logger, string destination, string itemId, Exception exception);

    [LoggerMessage(EventId = 3531, Level = LogLevel.Error, Message = "Export pass failed; the dispatcher keeps running and tries again")]
    public static partial void PassFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3532, Level = LogLevel.Information, Message = "Exporter stopped; {Pending} items stay pending for the next start")]
    public static partial void Stopped(ILogger logger, int pending);
}
