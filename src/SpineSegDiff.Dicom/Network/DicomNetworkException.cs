namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// A DICOM network operation failed: connection lost or refused, timeout, abort, or a peer that broke the protocol.
/// (Malformed bytes themselves are <see cref="DicomFormatException"/>; this is what an SCU caller sees.)
/// </summary>
public class DicomNetworkException : Exception
{
    public DicomNetworkException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>The peer answered the A-ASSOCIATE-RQ with an A-ASSOCIATE-RJ.</summary>
public sealed class DicomAssociationRejectedException : DicomNetworkException
{
    public DicomAssociationRejectedException(AAssociateRj reject)
        : base($"Association rejected: {(reject ?? throw new ArgumentNullException(nameof(reject)))}")
    {
        Reject = reject;
    }

    public AAssociateRj Reject { get; }

    /// <summary>A transient rejection (busy peer) is worth retrying later; a permanent one is a configuration error.</summary>
    public bool IsTransient => Reject.Result == AssociateRejectResult.Transient;
}

/// <summary>The association was aborted, by the peer (A-ABORT received) or by us after a protocol error.</summary>
public sealed class DicomAssociationAbortedException : DicomNetworkException
{
    public DicomAssociationAbortedException(AAbort abort, bool byPeer, Exception? inner = null)
        : base($"Association aborted by {(byPeer ? "the peer" : "us")}: {abort}", inner)
    {
        Abort = abort;
        ByPeer = byPeer;
    }

    public AAbort Abort { get; }

    public bool ByPeer { get; }
}
