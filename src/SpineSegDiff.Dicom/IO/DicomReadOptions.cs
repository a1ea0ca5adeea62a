namespace SpineSegDiff.Dicom.IO;

/// <summary>How datasets are decoded.</summary>
public sealed record DicomReadOptions
{
    /// <summary>Decoding stops before the first top-level element with this tag or a greater one (e.g. Pixel Data).</summary>
    public DicomTag? StopBeforeTag { get; init; }

    /// <summary>Character set for datasets without (0008,0005).</summary>
    public DicomCharacterSet DefaultCharacterSet { get; init; } = DicomCharacterSet.Default;

    /// <summary>Sequences nested deeper than this are rejected (protects the stack against hostile input).</summary>
    public int MaxSequenceDepth { get; init; } = 32;

    /// <summary>
    /// Largest single value accepted, on top of the check against the bytes actually left. Guards streams whose
    /// length is unknown (deflate, network), where a huge declared length must not become a huge allocation.
    /// </summary>
    public long MaxValueLength { get; init; } = 1L << 31;

    public static DicomReadOptions Default { get; } = new();

    public static DicomReadOptions HeaderOnly { get; } = new() { StopBeforeTag = new DicomTag(0x7FE0, 0x0010) };
}
