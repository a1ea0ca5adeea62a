namespace SpineSegDiff.Results.Segmentation;

/// <summary>
/// Bit packing of BINARY segmentation frames (PS3.5 8.1.1 and PS3.3 C.8.20.2.1): one bit per pixel, the first pixel
/// in the least significant bit of the first byte, and frames back to back in one bit stream. A frame starts on a
/// byte boundary only when Rows x Columns is a multiple of 8; padding each frame to a whole byte is the dcmqi #341
/// bug that shifts every later frame.
/// </summary>
public static class BinaryFramePacking
{
    /// <summary>Bytes needed for <paramref name="frameCount"/> frames of <paramref name="pixelsPerFrame"/> pixels, before even-length padding.</summary>
    public static long PackedLength(int frameCount, int pixelsPerFrame) => ((long)frameCount * pixelsPerFrame + 7) / 8;

    /// <summary>Packs frames of 0/non-zero bytes into one contiguous bit stream, padded with a zero byte to even length.</summary>
    public static byte[] Pack(IReadOnlyList<byte[]> frames, int pixelsPerFrame)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixelsPerFrame);
        var length = PackedLength(frames.Count, pixelsPerFrame);
        var packed = new byte[checked((int)(length + (length & 1)))];
        long bit = 0;
        foreach (var frame in frames)
        {
            if (frame.Length != pixelsPerFrame)
            {
                throw new ArgumentException($"A frame has {frame.Length} pixels, expected {pixelsPerFrame}.", nameof(frames));
            }
            for (var p = 0; p < frame.Length; p++, bit++)
            {
                if (frame[p] != 0)
                {
                    packed[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                }
            }
        }
        return packed;
    }

    /// <summary>Unpacks frame <paramref name="frameIndex"/> (0-based) of a contiguous bit stream into 0/1 bytes.</summary>
    public static byte[] Unpack(ReadOnlySpan<byte> packed, int frameIndex, int pixelsPerFrame)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frameIndex);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixelsPerFrame);
        var first = (long)frameIndex * pixelsPerFrame;
        if ((first + pixelsPerFrame + 7) / 8 > packed.Length)
        {
            throw new ArgumentException($"The pixel data ({packed.Length} bytes) ends before frame {frameIndex + 1}.", nameof(packed));
        }
        var frame = new byte[pixelsPerFrame];
        for (var p = 0; p < pixelsPerFrame; p++)
        {
            var bit = first + p;
            frame[p] = (byte)((packed[(int)(bit >> 3)] >> (int)(bit & 7)) & 1);
        }
        return frame;
    }
}
