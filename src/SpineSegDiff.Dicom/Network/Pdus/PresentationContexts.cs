namespace SpineSegDiff.Dicom.Network;

/// <summary>A presentation context item of an A-ASSOCIATE-RQ (item type 0x20): one abstract syntax, transfer syntaxes in the proposer's order.</summary>
public sealed record PresentationContextProposal(byte Id, string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes);

/// <summary>Result/reason of a presentation context in an A-ASSOCIATE-AC (PS3.8 table 9-18).</summary>
public enum PresentationContextResultCode : byte
{
    Acceptance = 0,
    UserRejection = 1,

    /// <summary>Provider rejection, no reason.</summary>
    NoReason = 2,
    AbstractSyntaxNotSupported = 3,
    TransferSyntaxesNotSupported = 4,
}

/// <summary>
/// A presentation context item of an A-ASSOCIATE-AC (item type 0x21). The transfer syntax is significant only on
/// acceptance; rejected contexts may carry none.
/// </summary>
public sealed record PresentationContextResult(byte Id, PresentationContextResultCode Result, string? TransferSyntax);

/// <summary>A context both sides agreed on: what may be exchanged on presentation context <see cref="Id"/>.</summary>
public sealed record AcceptedPresentationContext(byte Id, string AbstractSyntax, DicomTransferSyntax TransferSyntax);
