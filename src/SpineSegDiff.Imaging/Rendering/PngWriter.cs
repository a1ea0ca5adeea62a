using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SpineSegDiff.Imaging.Rendering;

/// <summary>Minimal PNG encoder (8-bit grey or RGB, no filtering) for previews, debug output and documentation.</summary>
public static class PngWriter
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Writes an 8-bit image; <paramref name="channels"/> 1 (grey) or 3 (RGB), row-major interleaved.</summary>
    public static void Write(Stream output, ReadOnlySpan<byte> pixels, int width, int height, int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 (grey) or 3 (RGB).");
        }
        if (pixels.Length != width * height * channels)
        {
            throw new ArgumentException($"{pixels.Length} bytes for {width}x{height}x{channels}.", nameof(pixels));
        }
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;
        header[9] = (byte)(channels == 1 ? 0 : 2);
        WriteChunk(output, "IHDR", header);
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            var stride = width * channels;
            for (var y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter type None
                zlib.Write(pixels.Slice(y * stride, stride));
            }
        }
        WriteChunk(output, "IDAT", compressed.ToArray());
        WriteChunk(output, "IEND", []);
    }

    public static void Write(string path, ReadOnlySpan<byte> pixels, int width, int height, int channels = 1)
    {
        using var stream = File.Create(path);
        Write(stream, pixels, width, height, channels);
    }

    /// <summary>A float image in [0, 1] as grey.</summary>
    public static void WriteGrey(string path, ReadOnlySpan<float> image, int width, int height)
    {
        var bytes = new byte[width * height];
        for (var n = 0; n < bytes.Length; n++)
        {
            bytes[n] = (byte)Math.Clamp(MathF.Round(image[n] * 255f), 0f, 255f);
        }
        Write(path, bytes, width, height);
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        var crc = Crc(0xFFFFFFFFu, typeBytes);
        crc = Crc(crc, data) ^ 0xFFFFFFFFu;
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        output.Write(crcBytes);
    }

    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
        return table;
    }
}
