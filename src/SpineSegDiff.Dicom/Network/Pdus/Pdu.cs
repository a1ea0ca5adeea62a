namespace SpineSegDiff.Dicom.Network;

/// <summary>PDU types of the DICOM Upper Layer protocol (PS3.8 section 9.3).</summary>
public enum PduType : byte
{
    AssociateRequest = 0x01,
    AssociateAccept = 0x02,
    AssociateReject = 0x03,
    PData = 0x04,
    ReleaseRequest = 0x05,
    ReleaseResponse = 0x06,
    Abort = 0x07,
}

/// <summary>A decoded protocol data unit. Instances are plain values: encoding and decoding are pure functions.</summary>
public abstract record Pdu
{
    public abstract PduType Type { get; }
}

/// <summary>A-ASSOCIATE-RQ (PS3.8 9.3.2).</summary>
public sealed record AAssociateRq(
    string CalledAeTitle,
    string CallingAeTitle,
    IReadOnlyList<PresentationContextProposal> PresentationContexts,
    UserInformation UserInformation,
    string ApplicationContextName = DicomUids.ApplicationContext,
    ushort ProtocolVersion = 1) : Pdu
{
    public override PduType Type => PduType.AssociateRequest;
}

/// <summary>A-ASSOCIATE-AC (PS3.8 9.3.3). The AE title fields are echoed from the request (not tested by receivers).</summary>
public sealed record AAssociateAc(
    string CalledAeTitle,
    string CallingAeTitle,
    IReadOnlyList<PresentationContextResult> PresentationContexts,
    UserInformation UserInformation,
    string ApplicationContextName = DicomUids.ApplicationContext,
    ushort ProtocolVersion = 1) : Pdu
{
    public override PduType Type => PduType.AssociateAccept;
}

/// <summary>A-ASSOCIATE-RJ (PS3.8 9.3.4). <see cref="Reason"/> is interpreted per <see cref="Source"/>; see <see cref="AssociateRejectReason"/>.</summary>
public sealed record AAssociateRj(AssociateRejectResult Result, AssociateRejectSource Source, byte Reason) : Pdu
{
    public override PduType Type => PduType.AssociateReject;

    public override string ToString() => $"A-ASSOCIATE-RJ {Result} source {(byte)Source} ({Source}) reason {Reason} ({AssociateRejectReason.Describe(Source, Reason)})";
}

/// <summary>P-DATA-TF (PS3.8 9.3.5): one or more presentation data values.</summary>
public sealed record PDataTf(IReadOnlyList<PresentationDataValue> Values) : Pdu
{
    public override PduType Type => PduType.PData;
}

/// <summary>
/// One PDV item. <see cref="Data"/> is a fragment of a command or dataset stream; when it comes from a
/// <see cref="PduReader"/> it refers to the reader's buffer and is valid only until the next read.
/// </summary>
public sealed record PresentationDataValue(byte PresentationContextId, bool IsCommand, bool IsLastFragment, ReadOnlyMemory<byte> Data)
{
    /// <summary>Offset of this PDV item in the connection's byte stream (for error messages); 0 when built locally.</summary>
    public long StreamOffset { get; init; }

    /// <summary>The message control header byte (PS3.8 E.2): bit 0 command, bit 1 last fragment.</summary>
    public byte MessageControlHeader => (byte)((IsCommand ? 1 : 0) | (IsLastFragment ? 2 : 0));
}

/// <summary>A-RELEASE-RQ (PS3.8 9.3.6).</summary>
public sealed record AReleaseRq : Pdu
{
    public override PduType Type => PduType.ReleaseRequest;
}

/// <summary>A-RELEASE-RP (PS3.8 9.3.7).</summary>
public sealed record AReleaseRp : Pdu
{
    public override PduType Type => PduType.ReleaseResponse;
}

/// <summary>A-ABORT (PS3.8 9.3.8). <see cref="Reason"/> is significant only when the source is the service provider.</summary>
public sealed record AAbort(AbortSource Source, AbortReason Reason) : Pdu
{
    public override PduType Type => PduType.Abort;

    public override string ToString() => $"A-ABORT source {(byte)Source} ({Source}) reason {(byte)Reason} ({Reason})";
}

public enum AssociateRejectResult : byte
{
    Permanent = 1,
    Transient = 2,
}

public enum AssociateRejectSource : byte
{
    /// <summary>DICOM UL service-user: the application refused (AE titles, application context).</summary>
    ServiceUser = 1,

    /// <summary>DICOM UL service-provider, ACSE related function (protocol version).</summary>
    ServiceProviderAcse = 2,

    /// <summary>DICOM UL service-provider, presentation related function (congestion, local limits).</summary>
    ServiceProviderPresentation = 3,
}

/// <summary>Reject reason codes of PS3.8 table 9-21; their meaning depends on the source.</summary>
public static class AssociateRejectReason
{
    // Source 1 (service user).
    public const byte NoReasonGiven = 1;
    public const byte ApplicationContextNameNotSupported = 2;
    public const byte CallingAeTitleNotRecognized = 3;
    public const byte CalledAeTitleNotRecognized = 7;

    // Source 2 (service provider, ACSE).
    public const byte ProtocolVersionNotSupported = 2;

    // Source 3 (service provider, presentation).
    public const byte TemporaryCongestion = 1;
    public const byte LocalLimitExceeded = 2;

    public static string Describe(AssociateRejectSource source, byte reason) => (source, reason) switch
    {
        (AssociateRejectSource.ServiceUser, NoReasonGiven) => "no reason given",
        (AssociateRejectSource.ServiceUser, ApplicationContextNameNotSupported) => "application context name not supported",
        (AssociateRejectSource.ServiceUser, CallingAeTitleNotRecognized) => "calling AE title not recognized",
        (AssociateRejectSource.ServiceUser, CalledAeTitleNotRecognized) => "called AE title not recognized",
        (AssociateRejectSource.ServiceProviderAcse, NoReasonGiven) => "no reason given",
        (AssociateRejectSource.ServiceProviderAcse, ProtocolVersionNotSupported) => "protocol version not supported",
        (AssociateRejectSource.ServiceProviderPresentation, TemporaryCongestion) => "temporary congestion",
        (AssociateRejectSource.ServiceProviderPresentation, LocalLimitExceeded) => "local limit exceeded",
        _ => "reserved",
    };
}

public enum AbortSource : byte
{
    ServiceUser = 0,
    Reserved = 1,
    ServiceProvider = 2,
}

/// <summary>A-ABORT reasons of PS3.8 table 9-26 (service-provider source).</summary>
public enum AbortReason : byte
{
    NotSpecified = 0,
    UnrecognizedPdu = 1,
    UnexpectedPdu = 2,
    Reserved = 3,
    UnrecognizedPduParameter = 4,
    UnexpectedPduParameter = 5,
    InvalidPduParameterValue = 6,
}
