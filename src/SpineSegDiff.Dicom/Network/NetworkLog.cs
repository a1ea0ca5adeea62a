using System.Net;
using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// Log messages of the network layer (event ids 1000-1999). No patient data is ever logged; UIDs only at Debug;
/// AE titles pass through <see cref="AeTitle.ForLog"/> because they come from the peer.
/// </summary>
internal static partial class NetworkLog
{
    // ----- Server 1000-1099 -----------------------------------------------------------------------------------

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "DICOM server {AeTitle} listening on {EndPoint}")]
    public static partial void ServerStarted(ILogger logger, string aeTitle, IPEndPoint endPoint);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "DICOM server stopped ({Remaining} connections were open at shutdown)")]
    public static partial void ServerStopped(ILogger logger, int remaining);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Connection {ConnectionId} from {Remote}")]
    public static partial void ConnectionAccepted(ILogger logger, long connectionId, EndPoint? remote);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Connection from {Remote} closed at once: {Pending} connections are already waiting to associate (limit {Limit})")]
    public static partial void PendingLimitReached(ILogger logger, EndPoint? remote, int pending, int limit);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Connection {ConnectionId} from {Remote} sent no A-ASSOCIATE-RQ within {Timeout}; closed")]
    public static partial void ArtimExpired(ILogger logger, long connectionId, EndPoint? remote, TimeSpan timeout);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Association {AssociationId} accepted: {CallingAe} -> {CalledAe} from {Remote}, {Accepted} of {Proposed} presentation contexts, peer max PDU {PeerMaxPdu}")]
    public static partial void AssociationAccepted(ILogger logger, long associationId, string callingAe, string calledAe, EndPoint? remote, int accepted, int proposed, uint peerMaxPdu);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Association {AssociationId} rejected: {CallingAe} -> {CalledAe} from {Remote}: {Reject}")]
    public static partial void AssociationRejected(ILogger logger, long associationId, string callingAe, string calledAe, EndPoint? remote, AAssociateRj reject);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Association {AssociationId} from {CallingAe} refused: {Active} associations active (limit {Limit})")]
    public static partial void AssociationLimitReached(ILogger logger, long associationId, string callingAe, int active, int limit);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Association {AssociationId} ended ({Reason}): {Stored} instances stored, {Failed} failed, {Echoes} echoes")]
    public static partial void AssociationEnded(ILogger logger, long associationId, AssociationEndReason reason, int stored, int failed, int echoes);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Association {AssociationId} aborted by the peer: {Abort}")]
    public static partial void AbortedByPeer(ILogger logger, long associationId, AAbort abort);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Association {AssociationId} idle for {Timeout}; aborting")]
    public static partial void IdleTimeout(ILogger logger, long associationId, TimeSpan timeout);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Association {AssociationId}: no PDU for {Timeout} while a message was in flight; aborting")]
    public static partial void DimseTimeout(ILogger logger, long associationId, TimeSpan timeout);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "Connection {ConnectionId}: protocol error, aborting with reason {Reason}: {Error}")]
    public static partial void ProtocolError(ILogger logger, long connectionId, AbortReason reason, string error);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Information, Message = "Connection {ConnectionId} lost: {Error}")]
    public static partial void ConnectionLost(ILogger logger, long connectionId, string error);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Debug, Message = "Association {AssociationId}: C-STORE-RQ {MessageId} on context {ContextId}, SOP class {SopClassUid}, instance {SopInstanceUid}")]
    public static partial void StoreRequested(ILogger logger, long associationId, ushort messageId, byte contextId, string? sopClassUid, string? sopInstanceUid);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Debug, Message = "Association {AssociationId}: C-STORE {MessageId} answered 0x{Status:X4} after {Bytes} bytes")]
    public static partial void StoreAnswered(ILogger logger, long associationId, ushort messageId, ushort status, long bytes);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Warning, Message = "Association {AssociationId}: C-STORE {MessageId} failed with 0x{Status:X4} ({ErrorType}: {Error})")]
    public static partial void StoreFailed(ILogger logger, long associationId, ushort messageId, ushort status, string errorType, string error);

    [LoggerMessage(EventId = 1017, Level = LogLevel.Error, Message = "Association {AssociationId}: disposing a store transaction failed; a temporary file may remain")]
    public static partial void TransactionDisposeFailed(ILogger logger, long associationId, Exception exception);

    [LoggerMessage(EventId = 1018, Level = LogLevel.Debug, Message = "Association {AssociationId}: C-ECHO {MessageId} answered")]
    public static partial void EchoAnswered(ILogger logger, long associationId, ushort messageId);

    [LoggerMessage(EventId = 1019, Level = LogLevel.Warning, Message = "Association {AssociationId}: {Field} (0x{FieldValue:X4}) is not supported; answered 0x{Status:X4}")]
    public static partial void UnsupportedCommand(ILogger logger, long associationId, DimseCommandField field, ushort fieldValue, ushort status);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Error, Message = "An AssociationEnded handler failed for association {AssociationId}")]
    public static partial void AssociationEndedHandlerFailed(ILogger logger, long associationId, Exception exception);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Information, Message = "DICOM server stopping: aborting {Count} open connections")]
    public static partial void ServerStopping(ILogger logger, int count);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Error, Message = "Accepting a connection failed; retrying")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Error, Message = "Connection {ConnectionId} failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(EventId = 1024, Level = LogLevel.Warning, Message = "Association {AssociationId}: unexpected {Pdu}; aborting")]
    public static partial void UnexpectedPdu(ILogger logger, long associationId, string pdu);

    [LoggerMessage(EventId = 1025, Level = LogLevel.Information, Message = "Association {AssociationId} released by the peer")]
    public static partial void ReleaseRequested(ILogger logger, long associationId);

    [LoggerMessage(EventId = 1026, Level = LogLevel.Warning, Message = "DICOM server: {Count} connection handlers did not finish within {Timeout} of shutdown")]
    public static partial void ShutdownIncomplete(ILogger logger, int count, TimeSpan timeout);

    [LoggerMessage(EventId = 1027, Level = LogLevel.Warning, Message = "Association {AssociationId} from {CallingAe} refused (transient, temporary congestion): {AvailableMegabytes} MB free in the store, below the minimum of {MinimumMegabytes} MB")]
    public static partial void StorageLow(ILogger logger, long associationId, string callingAe, long availableMegabytes, long minimumMegabytes);

    // ----- Client 1100-1199 -----------------------------------------------------------------------------------

    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Requesting association {CallingAe} -> {CalledAe} at {Host}:{Port} with {Contexts} presentation contexts")]
    public static partial void AssociationRequesting(ILogger logger, string callingAe, string calledAe, string host, int port, int contexts);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Association {CallingAe} -> {CalledAe} at {Host}:{Port} accepted: {Accepted} of {Proposed} presentation contexts, peer max PDU {PeerMaxPdu}")]
    public static partial void ClientAssociationAccepted(ILogger logger, string callingAe, string calledAe, string host, int port, int accepted, int proposed, uint peerMaxPdu);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Association {CallingAe} -> {CalledAe} at {Host}:{Port} rejected: {Reject}")]
    public static partial void ClientAssociationRejected(ILogger logger, string callingAe, string calledAe, string host, int port, AAssociateRj reject);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "C-STORE of instance {SopInstanceUid} on context {ContextId} ({Syntax}, {Mode})")]
    public static partial void StoreSending(ILogger logger, string sopInstanceUid, byte contextId, string syntax, string mode);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "File {Index} of the batch was not sent: {Error}")]
    public static partial void FileNotSent(ILogger logger, int index, string error);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Debug, Message = "File {Index} is {Path}")]
    public static partial void FilePath(ILogger logger, int index, string path);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Association to {Host}:{Port} failed during a transfer; {Remaining} files left to retry on a new association: {Error}")]
    public static partial void AssociationFailedDuringTransfer(ILogger logger, string host, int port, int remaining, string error);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Information, Message = "Sent {Succeeded} of {Total} files to {CalledAe} at {Host}:{Port} ({Failed} failed)")]
    public static partial void BatchSent(ILogger logger, int succeeded, int total, int failed, string calledAe, string host, int port);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Warning, Message = "Association to {Host}:{Port}: releasing failed ({Error}); connection closed")]
    public static partial void ReleaseFailed(ILogger logger, string host, int port, string error);
}
