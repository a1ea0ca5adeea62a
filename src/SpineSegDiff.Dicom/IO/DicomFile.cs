using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SpineSegDiff.Dicom.IO;

/// <summary>A DICOM Part 10 file: 128-byte preamble, "DICM", File Meta Information and the dataset (PS3.10 7.1).</summary>
public sealed class DicomFile
{
    public const int PreambleLength = 128;

    public DicomFile(DicomDataset fileMetaInformation, DicomDataset dataset)
    {
        FileMetaInformation = fileMetaInformation ?? throw new ArgumentNullException(nameof(fileMetaInformation));
        Dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
    }

    public DicomDataset FileMetaInformation { get; }

    public DicomDataset Dataset { get; }

    public DicomTransferSyntax TransferSyntax =>
        DicomTransferSyntax.FromUid(FileMetaInformation.GetString(DicomTagsCore.TransferSyntaxUid)
            ?? throw new InvalidOperationException("File Meta Information has no Transfer Syntax UID."));

    /// <summary>Byte offset of the first dataset element in the file.</summary>
    public long DatasetOffset { get; private init; }

    /// <summary>True when reading stopped at <see cref="DicomReadOptions.StopBeforeTag"/>.</summary>
    public bool IsPartial { get; private init; }

    public static DicomFile Open(string path, DicomReadOptions? options = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(stream, options);
    }

    /// <summary>Reads a Part 10 file. Throws <see cref="DicomFormatException"/> for anything malformed or truncated.</summary>
    public static DicomFile Read(Stream stream, DicomReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= DicomReadOptions.Default;
        var meta = ReadMeta(stream, options, out var datasetOffset);
        var syntaxUid = meta.GetString(DicomTagsCore.TransferSyntaxUid);
        if (string.IsNullOrEmpty(syntaxUid))
        {
            throw new DicomFormatException("File Meta Information has no Transfer Syntax UID", datasetOffset, DicomTagsCore.TransferSyntaxUid);
        }
        var syntax = DicomTransferSyntax.FromUid(syntaxUid);
        DicomDataset dataset;
        bool stopped;
        if (syntax.IsDeflated)
        {
            using var inflate = new DeflateStream(stream, CompressionMode.Decompress, leaveOpen: true);
            try
            {
                // Offsets inside a deflated dataset count inflated bytes after the meta header.
                dataset = DicomDatasetReader.Read(inflate, syntax, options, datasetOffset, out stopped);
            }
            catch (InvalidDataException ex)
            {
                throw new DicomFormatException("Corrupt deflate stream: " + ex.Message, datasetOffset, null, ex);
            }
        }
        else
        {
            dataset = DicomDatasetReader.Read(stream, syntax, options, datasetOffset, out stopped);
        }
        return new DicomFile(meta, dataset) { DatasetOffset = datasetOffset, IsPartial = stopped };
    }

    /// <summary>Reads preamble, magic and File Meta Information, leaving the stream at the first dataset byte.</summary>
    public static DicomDataset ReadMeta(Stream stream, DicomReadOptions options, out long datasetOffset)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        Span<byte> head = stackalloc byte[PreambleLength + 4];
        var n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n < head.Length)
        {
            throw new DicomFormatException($"Not a DICOM Part 10 file: only {n} bytes", n);
        }
        if (!head[PreambleLength..].SequenceEqual("DICM"u8))
        {
            throw new DicomFormatException("Not a DICOM Part 10 file: no \"DICM\" after the 128-byte preamble", PreambleLength);
        }
        return DicomDatasetReader.ReadMetaGroup(stream, PreambleLength + 4, options, out datasetOffset);
    }

    /// <summary>Builds File Meta Information for a dataset (PS3.10 7.1).</summary>
    public static DicomDataset CreateMeta(string sopClassUid, string sopInstanceUid, DicomTransferSyntax syntax, string? sourceAeTitle = null)
    {
        ArgumentNullException.ThrowIfNull(syntax);
        var meta = new DicomDataset();
        meta.SetBytes(new DicomTag(0x0002, 0x0001), DicomVR.OB, new byte[] { 0, 1 });
        meta.SetString(new DicomTag(0x0002, 0x0002), DicomVR.UI, sopClassUid);
        meta.SetString(new DicomTag(0x0002, 0x0003), DicomVR.UI, sopInstanceUid);
        meta.SetString(DicomTagsCore.TransferSyntaxUid, DicomVR.UI, syntax.Uid);
        meta.SetString(new DicomTag(0x0002, 0x0012), DicomVR.UI, DicomUids.ImplementationClassUid);
        meta.SetString(new DicomTag(0x0002, 0x0013), DicomVR.SH, DicomUids.ImplementationVersionName);
        if (!string.IsNullOrWhiteSpace(sourceAeTitle))
        {
            meta.SetString(new DicomTag(0x0002, 0x0016), DicomVR.AE, sourceAeTitle.Trim());
        }
        return meta;
    }

    /// <summary>Writes preamble, "DICM" and the meta group with a freshly computed group length.</summary>
    public static void WriteMeta(Stream output, DicomDataset meta)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(meta);
        var body = new DicomDataset(meta.Where(i => i.Tag != DicomTagsCore.FileMetaInformationGroupLength));
        using var encoded = new MemoryStream();
        DicomDatasetWriter.WriteElements(encoded, body, explicitVR: true, topLevel: false);
        Span<byte> head = stackalloc byte[PreambleLength + 4 + 12];
        head.Clear();
        Encoding.ASCII.GetBytes("DICM", head[PreambleLength..]);
        var g = head[(PreambleLength + 4)..];
        BinaryPrimitives.WriteUInt16LittleEndian(g, 0x0002);
        BinaryPrimitives.WriteUInt16LittleEndian(g[2..], 0x0000);
        g[4] = (byte)'U';
        g[5] = (byte)'L';
        BinaryPrimitives.WriteUInt16LittleEndian(g[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(g[8..], (uint)encoded.Length);
        output.Write(head);
        encoded.Position = 0;
        encoded.CopyTo(output);
    }

    /// <summary>Writes a Part 10 file: meta header, then the dataset streamed element by element.</summary>
    public void Write(Stream output)
    {
        WriteMeta(output, FileMetaInformation);
        DicomDatasetWriter.Write(output, Dataset, TransferSyntax);
    }

    /// <summary>Creates a file object for a dataset, with meta information taken from its SOP Class and Instance UIDs.</summary>
    public static DicomFile Create(DicomDataset dataset, DicomTransferSyntax syntax, string? sourceAeTitle = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var sopClass = dataset.GetString(new DicomTag(0x0008, 0x0016)) ?? throw new ArgumentException("The dataset has no SOP Class UID.", nameof(dataset));
        var sopInstance = dataset.GetString(new DicomTag(0x0008, 0x0018)) ?? throw new ArgumentException("The dataset has no SOP Instance UID.", nameof(dataset));
        return new DicomFile(CreateMeta(sopClass, sopInstance, syntax, sourceAeTitle), dataset);
    }

    /// <summary>Saves atomically: writes a temporary file beside the target, flushes it to disk, then renames it.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
