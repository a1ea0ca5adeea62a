using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Imaging.MetaImage;

/// <summary>
/// Reads MetaImage (.mha with LOCAL data, .mhd with a separate raw/zraw file), 2D or 3D, one channel,
/// raw or zlib-compressed. Geometry is taken as ITK writes it: Offset is the first voxel's LPS position and
/// TransformMatrix lists each index axis's direction in turn (so it is the direction matrix's columns).
/// </summary>
public static class MetaImageReader
{
    // A header is a few hundred bytes; anything larger is not a MetaImage and must not be slurped as text.
    private const int MaxHeaderBytes = 64 * 1024;

    public static MetaImageHeader ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        return ParseHeader(stream, out _);
    }

    /// <summary>Reads the volume and converts its voxels to <typeparamref name="T"/>; throws when a value does not fit.</summary>
    public static Volume<T> Read<T>(string path) where T : unmanaged, INumber<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        var header = ParseHeader(stream, out var dataOffset);
        var raw = ReadElementBytes(path, stream, header, dataOffset);
        return new Volume<T>(header.Geometry, Convert<T>(raw, header));
    }

    public static MetaImageHeader ParseHeader(Stream stream, out long dataOffset)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var line = new List<byte>(128);
        long consumed = 0;
        while (true)
        {
            var b = stream.ReadByte();
            if (b < 0)
            {
                throw new MetaImageFormatException("MetaImage header ended before ElementDataFile.");
            }
            consumed++;
            if (consumed > MaxHeaderBytes)
            {
                throw new MetaImageFormatException($"No ElementDataFile within the first {MaxHeaderBytes} bytes: not a MetaImage file.");
            }
            if (b != '\n')
            {
                line.Add((byte)b);
                continue;
            }
            var text = Encoding.ASCII.GetString(CollectionsMarshal.AsSpan(line)).TrimEnd('\r');
            line.Clear();
            if (text.Trim().Length == 0)
            {
                continue;
            }
            var eq = text.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new MetaImageFormatException($"Malformed MetaImage header line '{text}'.");
            }
            var key = text[..eq].Trim();
            var value = text[(eq + 1)..].Trim();
            fields[key] = value;
            if (key.Equals("ElementDataFile", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }
        }
        dataOffset = consumed;
        return Interpret(fields);
    }

    private static MetaImageHeader Interpret(Dictionary<string, string> fields)
    {
        var objectType = fields.GetValueOrDefault("ObjectType", "Image");
        if (!objectType.Equals("Image", StringComparison.OrdinalIgnoreCase))
        {
            throw new MetaImageFormatException($"ObjectType '{objectType}' is not an image.");
        }
        var ndims = ParseInts(Require(fields, "NDims"), "NDims")[0];
        if (ndims is < 2 or > 3)
        {
            throw new MetaImageFormatException($"NDims = {ndims}: only 2D and 3D images are supported.");
        }
        if (fields.TryGetValue("ElementNumberOfChannels", out var channels) && ParseInts(channels, "ElementNumberOfChannels")[0] != 1)
        {
            throw new MetaImageFormatException("Multi-channel MetaImages are not supported.");
        }
        var dims = ParseInts(Require(fields, "DimSize"), "DimSize");
        ExpectCount(dims.Length, ndims, "DimSize");
        var spacing = fields.TryGetValue("ElementSpacing", out var es) ? ParseDoubles(es, "ElementSpacing")
            : fields.TryGetValue("ElementSize", out var esz) ? ParseDoubles(esz, "ElementSize")
            : Enumerable.Repeat(1.0, ndims).ToArray();
        ExpectCount(spacing.Length, ndims, "ElementSpacing");
        var offset = FirstOf(fields, ndims, "Offset", "Position", "Origin") ?? new double[ndims];
        var matrix = FirstOf(fields, ndims * ndims, "TransformMatrix", "Rotation", "Orientation");

        Direction3 direction;
        if (matrix is null)
        {
            direction = Direction3.Identity;
        }
        else if (ndims == 3)
        {
            direction = new Direction3(
                new Vec3(matrix[0], matrix[1], matrix[2]),
                new Vec3(matrix[3], matrix[4], matrix[5]),
                new Vec3(matrix[6], matrix[7], matrix[8]));
        }
        else
        {
            var a0 = new Vec3(matrix[0], matrix[1], 0);
            var a1 = new Vec3(matrix[2], matrix[3], 0);
            direction = new Direction3(a0, a1, a0.Cross(a1));
        }

        VolumeGeometry geometry;
        try
        {
            geometry = new VolumeGeometry(
                dims[0], dims[1], ndims == 3 ? dims[2] : 1,
                new Vec3(spacing[0], spacing[1], ndims == 3 ? spacing[2] : 1.0),
                new Vec3(offset[0], offset[1], ndims == 3 ? offset[2] : 0.0),
                direction);
        }
        catch (ArgumentException ex)
        {
            throw new MetaImageFormatException($"Invalid MetaImage geometry: {ex.Message}", ex);
        }

        var compressed = IsTrue(fields.GetValueOrDefault("CompressedData"));
        long? compressedSize = fields.TryGetValue("CompressedDataSize", out var cds) && long.TryParse(cds, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) ? size : null;
        var msb = IsTrue(fields.GetValueOrDefault("BinaryDataByteOrderMSB")) || IsTrue(fields.GetValueOrDefault("ElementByteOrderMSB"));
        if (fields.TryGetValue("BinaryData", out var binary) && !IsTrue(binary))
        {
            throw new MetaImageFormatException("ASCII MetaImage data (BinaryData = False) is not supported.");
        }
        var headerSize = fields.TryGetValue("HeaderSize", out var hs) ? ParseInts(hs, "HeaderSize")[0] : 0;
        return new MetaImageHeader(
            geometry,
            MetaElementTypes.Parse(Require(fields, "ElementType")),
            compressed,
            compressedSize,
            msb,
            Require(fields, "ElementDataFile"),
            fields.GetValueOrDefault("AnatomicalOrientation"),
            ndims,
            headerSize);
    }

    private static byte[] ReadElementBytes(string path, Stream stream, MetaImageHeader header, long dataOffset)
    {
        var expected = checked(header.Geometry.VoxelCount * MetaElementTypes.Size(header.ElementType));
        if (expected > Array.MaxLength)
        {
            throw new MetaImageFormatException($"Volume of {expected} bytes is too large.");
        }
        Stream source;
        var ownsSource = false;
        if (header.IsLocal)
        {
            stream.Position = dataOffset;
            source = stream;
        }
        else
        {
            var dataFile = header.ElementDataFile;
            if (dataFile.Contains(' ', StringComparison.Ordinal) || dataFile.StartsWith("LIST", StringComparison.OrdinalIgnoreCase))
            {
                throw new MetaImageFormatException($"Multi-file MetaImage data ('{dataFile}') is not supported.");
            }
            // The data file is resolved beside the header and must stay there: a header must not point us elsewhere.
            var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            var full = Path.GetFullPath(Path.Combine(directory, dataFile));
            if (!string.Equals(Path.GetDirectoryName(full), directory, StringComparison.Ordinal))
            {
                throw new MetaImageFormatException($"ElementDataFile '{dataFile}' is outside the header's directory.");
            }
            source = File.OpenRead(full);
            ownsSource = true;
            if (header.HeaderSize > 0)
            {
                source.Position = header.HeaderSize;
            }
            else if (header.HeaderSize < 0 && !header.Compressed)
            {
                source.Position = source.Length - expected; // -1: data is at the end of the file.
            }
        }
        try
        {
            var bytes = new byte[expected];
            if (header.Compressed)
            {
                using var zlib = new ZLibStream(source, CompressionMode.Decompress, leaveOpen: true);
                ReadFully(zlib, bytes, "decompressed data");
            }
            else
            {
                ReadFully(source, bytes, "raw data");
            }
            return bytes;
        }
        catch (InvalidDataException ex)
        {
            throw new MetaImageFormatException($"Corrupt zlib data in {path}: {ex.Message}", ex);
        }
        finally
        {
            if (ownsSource)
            {
                source.Dispose();
            }
        }
    }

    private static void ReadFully(Stream stream, byte[] buffer, string what)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0)
            {
                throw new MetaImageFormatException($"MetaImage {what} truncated: {read} of {buffer.Length} bytes.");
            }
            read += n;
        }
    }

    private static T[] Convert<T>(byte[] raw, MetaImageHeader header) where T : unmanaged, INumber<T>
    {
        var count = (int)header.Geometry.VoxelCount;
        var output = new T[count];
        var size = MetaElementTypes.Size(header.ElementType);
        if (header.BigEndian && size > 1)
        {
            SwapInPlace(raw, size);
        }
        if (MetaElementTypes.Of<T>() == header.ElementType && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, T>(raw).CopyTo(output);
            return output;
        }
        try
        {
            switch (header.ElementType)
            {
                case MetaElementType.Char: ConvertFrom(MemoryMarshal.Cast<byte, sbyte>(raw), output); break;
                case MetaElementType.UChar: ConvertFrom<byte, T>(raw, output); break;
                case MetaElementType.Short: ConvertFrom(MemoryMarshal.Cast<byte, short>(raw), output); break;
                case MetaElementType.UShort: ConvertFrom(MemoryMarshal.Cast<byte, ushort>(raw), output); break;
                case MetaElementType.Int: ConvertFrom(MemoryMarshal.Cast<byte, int>(raw), output); break;
                case MetaElementType.UInt: ConvertFrom(MemoryMarshal.Cast<byte, uint>(raw), output); break;
                case MetaElementType.Float: ConvertFrom(MemoryMarshal.Cast<byte, float>(raw), output); break;
                case MetaElementType.Double: ConvertFrom(MemoryMarshal.Cast<byte, double>(raw), output); break;
                default: throw new MetaImageFormatException($"Unsupported element type {header.ElementType}.");
            }
        }
        catch (OverflowException ex)
        {
            throw new MetaImageFormatException($"A {header.ElementType} voxel value does not fit in {typeof(T).Name}.", ex);
        }
        return output;
    }

    private static void ConvertFrom<TIn, T>(ReadOnlySpan<TIn> input, Span<T> output)
        where TIn : unmanaged, INumber<TIn>
        where T : unmanaged, INumber<T>
    {
        for (var n = 0; n < output.Length; n++)
        {
            output[n] = T.CreateChecked(input[n]);
        }
    }

    private static void SwapInPlace(Span<byte> bytes, int size)
    {
        switch (size)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(bytes), MemoryMarshal.Cast<byte, ushort>(bytes)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(bytes), MemoryMarshal.Cast<byte, uint>(bytes)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(bytes), MemoryMarshal.Cast<byte, ulong>(bytes)); break;
            default: break;
        }
    }

    private static string Require(Dictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out var value) ? value : throw new MetaImageFormatException($"MetaImage header lacks {key}.");

    private static double[]? FirstOf(Dictionary<string, string> fields, int count, params string[] keys)
    {
        foreach (var key in keys)
        {
            if (fields.TryGetValue(key, out var value))
            {
                var numbers = ParseDoubles(value, key);
                ExpectCount(numbers.Length, count, key);
                return numbers;
            }
        }
        return null;
    }

    private static void ExpectCount(int actual, int expected, string key)
    {
        if (actual != expected)
        {
            throw new MetaImageFormatException($"{key} has {actual} values, expected {expected}.");
        }
    }

    private static bool IsTrue(string? value) =>
        value is not null && (value.Equals("True", StringComparison.OrdinalIgnoreCase) || value == "1");

    private static int[] ParseInts(string value, string key) =>
        Split(value).Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new MetaImageFormatException($"{key}: '{s}' is not an integer.")).ToArray();

    private static double[] ParseDoubles(string value, string key) =>
        Split(value).Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new MetaImageFormatException($"{key}: '{s}' is not a number.")).ToArray();

    private static string[] Split(string value) => value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
}
