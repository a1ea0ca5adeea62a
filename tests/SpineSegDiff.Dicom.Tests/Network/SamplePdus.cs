using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

/// <summary>Valid PDUs of every type, used as round-trip cases and as fuzzing seeds.</summary>
internal static class SamplePdus
{
    public const string Explicit = "1.2.840.10008.1.2.1";
    public const string Implicit = "1.2.840.10008.1.2";
    public const string Deflated = "1.2.840.10008.1.2.1.99";
    public const string JpegBaseline = "1.2.840.10008.1.2.4.50";
    public const string MrStorage = "1.2.840.10008.5.1.4.1.1.4";
    public const string CtStorage = "1.2.840.10008.5.1.4.1.1.2";

    public static readonly PduLimits Limits = new(262144);

    public static AAssociateRq Request(string called = "SEGNODE", string calling = "MODALITY") => new(
        called,
        calling,
        [
            new PresentationContextProposal(1, DicomUids.Verification, [Implicit]),
            new PresentationContextProposal(3, MrStorage, [JpegBaseline, Explicit, Implicit]),
            new PresentationContextProposal(5, CtStorage, [Implicit]),
        ],
        new UserInformation
        {
            MaxPduLength = 16384,
            ImplementationClassUid = "1.2.3.4.5",
            ImplementationVersionName = "TEST_1",
            AsyncOperationsWindow = new AsyncOperationsWindow(4, 2),
            RoleSelections = [new RoleSelection(MrStorage, ScuRole: true, ScpRole: false)],
        });

    public static AAssociateAc Accept() => new(
        "SEGNODE",
        "MODALITY",
        [
            new PresentationContextResult(1, PresentationContextResultCode.Acceptance, Implicit),
            new PresentationContextResult(3, PresentationContextResultCode.Acceptance, Explicit),
            new PresentationContextResult(5, PresentationContextResultCode.AbstractSyntaxNotSupported, null),
        ],
        new UserInformation { MaxPduLength = 262144, ImplementationClassUid = DicomUids.ImplementationClassUid, ImplementationVersionName = "SPINESEG_010" });

    public static PDataTf Data() => new(
    [
        new PresentationDataValue(1, IsCommand: true, IsLastFragment: true, new byte[] { 1, 2, 3, 4, 5, 6 }),
        new PresentationDataValue(1, IsCommand: false, IsLastFragment: false, Enumerable.Range(0, 40).Select(i => (byte)i).ToArray()),
    ]);

    public static IReadOnlyList<Pdu> All() =>
    [
        Request(),
        Accept(),
        new AAssociateRj(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, AssociateRejectReason.LocalLimitExceeded),
        Data(),
        new AReleaseRq(),
        new AReleaseRp(),
        new AAbort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu),
    ];

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A PDU header with an arbitrary type and declared length.</summary>
    public static byte[] Header(byte type, uint length) =>
    [
        type, 0, (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length,
    ];

    /// <summary>A type/reserved/16-bit-length item.</summary>
    public static byte[] Item(byte type, byte[] value) => Concat([type, 0, (byte)(value.Length >> 8), (byte)value.Length], value);
}
