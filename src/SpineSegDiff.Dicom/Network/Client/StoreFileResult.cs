namespace SpineSegDiff.Dicom.Network;

/// <summary>What happened to one file handed to <see cref="StorageScu.SendAsync"/>.</summary>
/// <param name="Path">The file as given.</param>
/// <param name="SopInstanceUid">From the file's meta header, when it could be read.</param>
/// <param name="Status">The C-STORE-RSP status; null when the file was never sent.</param>
/// <param name="Error">Why it was not stored (no patient data: file problems, negotiation, network, status).</param>
public sealed record StoreFileResult(string Path, string? SopInstanceUid, ushort? Status, string? Error)
{
    /// <summary>The peer confirmed storage (success or a warning status).</summary>
    public bool Succeeded => Status is { } s && StoreStatus.IsStored(s);

    /// <summary>Which kind of problem kept the file from being stored, so a caller can decide whether to try again.</summary>
    public StoreFailureKind FailureKind { get; init; }

    /// <summary>The network failure behind <see cref="StoreFailureKind.Network"/> (an association rejection says whether it is transient).</summary>
    public DicomNetworkException? NetworkError { get; init; }
}

/// <summary>Why a file was not stored; <see cref="None"/> when it was.</summary>
public enum StoreFailureKind
{
    None,

    /// <summary>The local file could not be read, opened or re-encoded.</summary>
    FileProblem,

    /// <summary>The peer accepted no presentation context (SOP class or transfer syntax) usable for the file.</summary>
    NoAcceptedContext,

    /// <summary>No association, or it broke: connection refused, timeout, rejection, abort.</summary>
    Network,

    /// <summary>The peer answered the C-STORE with a failure status (<see cref="StoreFileResult.Status"/>).</summary>
    Refused,
}
