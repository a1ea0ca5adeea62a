using System.Buffers.Binary;
using System.IO.Compression;

namespace SpineSegDiff.Dicom.IO;

/// <summary>
/// Encodes a dataset element by element straight onto a stream (no intermediate copy of the dataset), in
/// Implicit or Explicit VR Little Endian, optionally deflated. Sequences and items use undefined lengths so nothing
/// has to be measured ahead of writing.
/// </summary>
public static class DicomDatasetWriter
{
    private const uint UndefinedLength = 0xFFFFFFFF;

    public static void Write(Stream output, DicomDataset dataset, DicomTransferSyntax syntax)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(syntax);
        if (!syntax.IsLittleEndian)
        {
            throw new NotSupportedException($"Writing {syntax} is not supported; it is retired. Use Explicit VR Little Endian.");
        }
        if (syntax.IsDeflated)
        {
            // Deflated Explicit VR LE is raw deflate (RFC 1951) without zlib header (PS3.5 A.5).
            using var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
            WriteElements(deflate, dataset, explicitVR: true, topLevel: true);
            return;
        }
        WriteElements(output, dataset, syntax.IsExplicitVR, topLevel: true);
    }

    /// <summary>Encodes to a byte array (command sets, tests, small objects).</summary>
    public static byte[] ToBytes(DicomDataset dataset, DicomTransferSyntax syntax)
    {
        using var ms = new MemoryStream();
        Write(ms, dataset, syntax);
        return ms.ToArray();
    }

    internal static void WriteElements(Stream output, DicomDataset dataset, bool explicitVR, bool topLevel)
    {
        Span<byte> header = stackalloc byte[12];
        foreach (var item in dataset)
        {
            if (item.Tag.IsGroupLength && item.Tag.Group > 0x0002)
            {
                continue;
            }
            switch (item)
            {
                case DicomElement e:
                    var vr = e.VR;
                    // A value too long for a 16-bit length can only be carried as UN in Explicit VR (PS3.5 6.2.2).
                    if (explicitVR && !vr.HasLongLength() && e.Length > ushort.MaxValue)
                    {
                        vr = DicomVR.UN;
                    }
                    var padded = e.Length % 2 != 0;
                    WriteHeader(output, header, e.Tag, vr, (uint)(e.Length + (padded ? 1 : 0)), explicitVR);
                    output.Write(e.Value.Span);
                    if (padded)
                    {
                        output.WriteByte(e.VR.PaddingByte());
                    }
                    break;
                case DicomSequence s:
                    WriteHeader(output, header, s.Tag, DicomVR.SQ, UndefinedLength, explicitVR);
                    foreach (var child in s.Items)
                    {
                        WriteItemHeader(output, header, DicomTag.Item, UndefinedLength);
                        WriteElements(output, child, explicitVR, topLevel: false);
                        WriteItemHeader(output, header, DicomTag.ItemDelimitationItem, 0);
                    }
                    WriteItemHeader(output, header, DicomTag.SequenceDelimitationItem, 0);
                    break;
                case DicomFragmentSequence f:
                    if (!explicitVR && !topLevel)
                    {
                        throw new InvalidOperationException("Encapsulated pixel data is only allowed at the top level.");
                    }
                    WriteHeader(output, header, f.Tag, f.VR == DicomVR.OW ? DicomVR.OW : DicomVR.OB, UndefinedLength, explicitVR);
                    WriteFragment(output, header, f.OffsetTable.Span);
                    foreach (var fragment in f.Fragments)
                    {
                        WriteFragment(output, header, fragment.Span);
                    }
                    WriteItemHeader(output, header, DicomTag.SequenceDelimitationItem, 0);
                    break;
            }
        }
    }

    private static void WriteFragment(Stream output, Span<byte> header, ReadOnlySpan<byte> bytes)
    {
        // Fragments must have even length (PS3.5 A.4); pad with a zero byte.
        var odd = bytes.Length % 2 != 0;
        WriteItemHeader(output, header, DicomTag.Item, (uint)(bytes.Length + (odd ? 1 : 0)));
        output.Write(bytes);
        if (odd)
        {
            output.WriteByte(0);
        }
    }

    private static void WriteItemHeader(Stream output, Span<byte> header, DicomTag tag, uint length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(header, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], tag.Element);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], length);
        output.Write(header[..8]);
    }

    private static void WriteHeader(Stream output, Span<byte> header, DicomTag tag, DicomVR vr, uint length, bool explicitVR)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(header, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], tag.Element);
        if (!explicitVR)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], length);
            output.Write(header[..8]);
            return;
        }
        header[4] = (byte)((ushort)vr >> 8);
        header[5] = (byte)vr;
        if (vr.HasLongLength())
        {
            header[6] = 0;
            header[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], length);
            output.Write(header[..12]);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], checked((ushort)length));
            output.Write(header[..8]);
        }
    }
}
