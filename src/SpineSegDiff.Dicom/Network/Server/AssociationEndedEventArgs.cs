using System.Net;

namespace SpineSegDiff.Dicom.Network;

/// <summary>Why an accepted association ended.</summary>
public enum AssociationEndReason
{
    /// <summary>Orderly A-RELEASE.</summary>
    Released,

    /// <summary>The peer sent A-ABORT.</summary>
    AbortedByPeer,

    /// <summary>We aborted: the peer broke the protocol (wrong PDU, malformed, too long).</summary>
    ProtocolError,

    /// <summary>We aborted: no PDU within the idle timeout.</summary>
    IdleTimeout,

    /// <summary>We aborted: a message in flight stalled beyond the DIMSE timeout, or the peer stopped reading.</summary>
    DimseTimeout,

    /// <summary>The TCP connection closed or failed without release or abort.</summary>
    ConnectionLost,

    /// <summary>We aborted because the server is shutting down.</summary>
    Shutdown,
}

/// <summary>An instance received on an association, with the status we answered.</summary>
public sealed record ReceivedInstance(string SopClassUid, string SopInstanceUid, ushort Status);

/// <summary>
/// Raised once per accepted association when it ends, after the last response was sent: the hook for series
/// assembly ("this sender is done for now").
/// </summary>
public sealed class AssociationEndedEventArgs : EventArgs
{
    public required long AssociationId { get; init; }

    public required string CallingAeTitle { get; init; }

    public required string CalledAeTitle { get; init; }

    public IPEndPoint? RemoteEndPoint { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset EndedAt { get; init; }

    public required AssociationEndReason Reason { get; init; }

    /// <summary>Every C-STORE answered on the association, in order, stored or not.</summary>
    public required IReadOnlyList<ReceivedInstance> Instances { get; init; }

    public int InstancesStored => Instances.Count(i => StoreStatus.IsStored(i.Status));

    public int InstancesFailed => Instances.Count(i => !StoreStatus.IsStored(i.Status));
}
