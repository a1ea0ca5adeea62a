namespace SpineSegDiff.Dicom;

/// <summary>
/// The one exception the toolkit's decoders throw for malformed or truncated input (Part 10 files,
/// datasets, PDUs). It names the byte offset where decoding failed and, when known, the tag being read,
/// so an operator can find the fault with dcmdump or a hex viewer.
/// </summary>
public sealed class DicomFormatException : Exception
{
    public DicomFormatException(string message, long offset, DicomTag? tag = null, Exception? inner = null)
        : base(Describe(message, offset, tag), inner)
    {
        Offset = offset;
        Tag = tag;
    }

    /// <summary>Byte offset from the start of the decoded input (file, dataset or PDU).</summary>
    public long Offset { get; }

    /// <summary>The element being decoded, when the failure happened inside one.</summary>
    public DicomTag? Tag { get; }

    private static string Describe(string message, long offset, DicomTag? tag) =>
        tag is { } t ? $"{message} (at byte {offset}, tag {t})" : $"{message} (at byte {offset})";
}
