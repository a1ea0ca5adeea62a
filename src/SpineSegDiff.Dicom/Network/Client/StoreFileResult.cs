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
}
