namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// The user information item (0x50) and the sub-items this node understands (PS3.7 annex D, PS3.8 annex D).
/// Sub-items it does not understand (extended negotiation, user identity, ...) are skipped on decoding.
/// </summary>
public sealed record UserInformation
{
    /// <summary>Maximum length of the P-DATA-TF PDUs the sender of this item can receive; 0 means unlimited.</summary>
    public uint MaxPduLength { get; init; }

    public string? ImplementationClassUid { get; init; }

    public string? ImplementationVersionName { get; init; }

    /// <summary>Asynchronous operations window (0x53), present only when negotiated.</summary>
    public AsyncOperationsWindow? AsyncOperationsWindow { get; init; }

    public IReadOnlyList<RoleSelection> RoleSelections { get; init; } = [];
}

/// <summary>Maximum number of outstanding operations invoked and performed (0 = unlimited).</summary>
public readonly record struct AsyncOperationsWindow(ushort MaxOperationsInvoked, ushort MaxOperationsPerformed);

/// <summary>SCP/SCU role selection sub-item (0x54) for one SOP class.</summary>
public sealed record RoleSelection(string SopClassUid, bool ScuRole, bool ScpRole);
