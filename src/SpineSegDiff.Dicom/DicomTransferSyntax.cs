using System.Collections.Frozen;

namespace SpineSegDiff.Dicom;

/// <summary>A transfer syntax: how a dataset is encoded (PS3.5 section 10).</summary>
[System.ComponentModel.TypeConverter(typeof(DicomTransferSyntaxConverter))]
public sealed record DicomTransferSyntax(string Uid, string Name, bool IsExplicitVR, bool IsLittleEndian, bool IsDeflated, bool IsEncapsulated)
{
    public static readonly DicomTransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, true, false, false);
    public static readonly DicomTransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, true, false, false);
    public static readonly DicomTransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, true, true, false);
    public static readonly DicomTransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian (retired)", true, false, false, false);

    private static readonly FrozenDictionary<string, DicomTransferSyntax> Known = new[]
    {
        ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
        Encapsulated("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
        Encapsulated("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"),
        Encapsulated("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"),
        Encapsulated("1.2.840.10008.1.2.4.70", "JPEG Lossless, First-Order Prediction"),
        Encapsulated("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
        Encapsulated("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy"),
        Encapsulated("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless Only"),
        Encapsulated("1.2.840.10008.1.2.4.91", "JPEG 2000"),
        Encapsulated("1.2.840.10008.1.2.5", "RLE Lossless"),
    }.ToFrozenDictionary(t => t.Uid, StringComparer.Ordinal);

    private static DicomTransferSyntax Encapsulated(string uid, string name) => new(uid, name, true, true, false, true);

    /// <summary>Transfer syntaxes whose datasets this toolkit can decode and encode without a codec.</summary>
    public bool IsUncompressed => !IsEncapsulated;

    /// <summary>
    /// Looks up a transfer syntax. Unknown UIDs are treated as encapsulated Explicit VR Little Endian, which is what
    /// PS3.5 section 10 requires of every transfer syntax that is not one of the native ones.
    /// </summary>
    public static DicomTransferSyntax FromUid(string uid)
    {
        ArgumentNullException.ThrowIfNull(uid);
        var trimmed = uid.TrimEnd('\0', ' ');
        return Known.TryGetValue(trimmed, out var ts) ? ts : new DicomTransferSyntax(trimmed, "Unknown (encapsulated)", true, true, false, true);
    }

    public static bool IsKnown(string uid) => Known.ContainsKey(uid.TrimEnd('\0', ' '));

    public override string ToString() => $"{Name} [{Uid}]";
}
