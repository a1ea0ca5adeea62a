using System.Net;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// Where the Storage SCP puts what it receives. The SCP streams each C-STORE dataset through a transaction as its
/// P-DATA fragments arrive, so an instance is never held whole in memory; the transaction commits (durably) before
/// the SCP answers, and is disposed without commit when the transfer fails or the association aborts.
/// </summary>
public interface IStorageSink
{
    ValueTask<IStoreTransaction> BeginAsync(StoreRequestContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Asked before each association is accepted, so a sink that cannot take data now (a nearly full disk) makes the
    /// SCP refuse new associations instead of failing their C-STOREs one by one. Called once per association: must be
    /// cheap and must not throw. Sinks without a limit need not implement it.
    /// </summary>
    StorageCapacity CheckCapacity() => StorageCapacity.Unlimited;
}

/// <summary>Whether a sink can take new instances now, and the figures behind the answer (for the log line).</summary>
/// <param name="AvailableBytes">Free bytes seen; -1 when not measured.</param>
/// <param name="MinimumBytes">The configured minimum; 0 when there is none.</param>
public readonly record struct StorageCapacity(bool IsAvailable, long AvailableBytes, long MinimumBytes)
{
    public static StorageCapacity Unlimited { get; } = new(true, -1, 0);
}

/// <summary>What the SCP knows about an incoming C-STORE when the dataset starts to arrive.</summary>
public sealed record StoreRequestContext(
    string CallingAeTitle,
    string CalledAeTitle,
    IPEndPoint? RemoteEndPoint,
    string SopClassUid,
    string SopInstanceUid,
    DicomTransferSyntax TransferSyntax,
    long AssociationId);

/// <summary>One incoming instance. Disposing without <see cref="CommitAsync"/> discards everything written.</summary>
public interface IStoreTransaction : IAsyncDisposable
{
    /// <summary>Appends dataset bytes (the PDV payloads, in order, exactly as received).</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> datasetBytes, CancellationToken cancellationToken);

    /// <summary>Makes the instance durable (flushed to disk and in its final place) and returns the DIMSE status to answer.</summary>
    ValueTask<StoreOutcome> CommitAsync(CancellationToken cancellationToken);
}

/// <summary>The result of a store: the DIMSE status for the C-STORE-RSP and an optional error comment (no patient data).</summary>
public readonly record struct StoreOutcome(ushort Status, string? ErrorComment = null, bool Duplicate = false)
{
    public static StoreOutcome Success { get; } = new(DimseStatus.Success);
}

/// <summary>DIMSE status codes used by this node (PS3.7 annex C, PS3.4 B.2.3).</summary>
public static class DimseStatus
{
    public const ushort Success = 0x0000;
    public const ushort Cancel = 0xFE00;
    public const ushort Pending = 0xFF00;

    /// <summary>Refused: out of resources (disk full, store unavailable).</summary>
    public const ushort OutOfResources = 0xA700;

    /// <summary>Error: data set does not match SOP class.</summary>
    public const ushort DataSetDoesNotMatchSopClass = 0xA900;

    /// <summary>Error: cannot understand (the dataset could not be decoded).</summary>
    public const ushort CannotUnderstand = 0xC000;

    /// <summary>Processing failure.</summary>
    public const ushort ProcessingFailure = 0x0110;

    public const ushort SopClassNotSupported = 0x0122;
    public const ushort DuplicateSopInstance = 0x0111;
    public const ushort UnrecognizedOperation = 0x0211;
    public const ushort MistypedArgument = 0x0212;

    public static bool IsSuccess(ushort status) => status == Success;

    /// <summary>Warnings (0001, Bxxx, 0107, 0116) still mean the object was stored.</summary>
    public static bool IsWarning(ushort status) => status is 0x0001 or 0x0107 or 0x0116 || (status & 0xF000) == 0xB000;
}
