using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SpineSegDiff.Imaging.Tests.Rendering;

/// <summary>
/// Reads back what PngWriter produces (8-bit grey or RGB, filter type None), checking the signature, chunk CRCs
/// and IHDR, so a test can compare decoded pixels with what was meant to be written.
/// </summary>
internal static class PngReader
{
    public static (int Width, int Height, int Channels, byte[] Pixels) Read(byte[] png)
    {
        png.AsSpan(0, 8).ToArray().Should().Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], "a PNG starts with its signature");
        var offset = 8;
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        var chunks = new List<string>();
        while (offset < png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var type = Encoding.ASCII.GetString(png, offset + 4, 4);
            var data = png.AsSpan(offset + 8, length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            Crc32(png.AsSpan(offset + 4, length + 4)).Should().Be(crc, $"the {type} chunk's CRC matches");
            chunks.Add(type);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                data[8].Should().Be(8, "8 bits per sample");
                channels = data[9] switch
                {
                    0 => 1,
                    2 => 3,
                    var other => throw new InvalidDataException($"Colour type {other}."),
                };
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }
            offset += 12 + length;
        }
        chunks.First().Should().Be("IHDR");
        chunks.Last().Should().Be("IEND");
        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        zlib.CopyTo(raw);
        var stride = width * channels;
        var bytes = raw.ToArray();
        bytes.Should().HaveCount((stride + 1) * height);
        var pixels = new byte[stride * height];
        for (var y = 0; y < height; y++)
        {
            bytes[y * (stride + 1)].Should().Be(0, "PngWriter uses filter type None");
            Array.Copy(bytes, y * (stride + 1) + 1, pixels, y * stride, stride);
        }
        return (width, height, channels, pixels);
    }

    /// <summary>CRC-32 as PNG defines it (ISO 3309), bit by bit: an independent check of the writer's table-driven one.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }
        return crc ^ 0xFFFFFFFFu;
    }
}
