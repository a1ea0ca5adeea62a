using System.Buffers.Binary;

namespace SpineSegDiff.Dicom.IO;

/// <summary>
/// A forward-only reader over a stream that counts its position (for error messages) and knows how many bytes are
/// left when the stream can tell, so declared lengths are checked before anything is allocated.
/// </summary>
internal sealed class ByteSource
{
    private const int ChunkSize = 1 << 20;
    private readonly Stream _stream;
    private readonly long _end; // -1 when unknown
    private readonly byte[] _scratch = new byte[8];

    public ByteSource(Stream stream, long startOffset = 0)
    {
        _stream = stream;
        Position = startOffset;
        _end = stream.CanSeek ? startOffset + (stream.Length - stream.Position) : -1;
    }

    /// <summary>Offset from the start of the input, counting bytes consumed before this source was created.</summary>
    public long Position { get; private set; }

    /// <summary>Bytes left, or -1 when the stream cannot tell.</summary>
    public long Remaining => _end < 0 ? -1 : _end - Position;

    /// <summary>True at the end of input. For unknown-length streams this peeks one byte.</summary>
    public bool AtEnd
    {
        get
        {
            if (_end >= 0)
            {
                return Position >= _end;
            }
            return !TryPeekByte(out _);
        }
    }

    private int _peeked = -1;

    private bool TryPeekByte(out byte value)
    {
        if (_peeked >= 0)
        {
            value = (byte)_peeked;
            return true;
        }
        var b = _stream.ReadByte();
        if (b < 0)
        {
            value = 0;
            return false;
        }
        _peeked = b;
        value = (byte)b;
        return true;
    }

    public void ReadExactly(Span<byte> buffer, DicomTag? tag)
    {
        var start = Position;
        var offset = 0;
        if (_peeked >= 0 && buffer.Length > 0)
        {
            buffer[0] = (byte)_peeked;
            _peeked = -1;
            offset = 1;
        }
        while (offset < buffer.Length)
        {
            var n = _stream.Read(buffer[offset..]);
            if (n <= 0)
            {
                Position = start + offset;
                throw new DicomFormatException($"Unexpected end of input: needed {buffer.Length} bytes, got {offset}", Position, tag);
            }
            offset += n;
        }
        Position = start + buffer.Length;
    }

    public ushort ReadUInt16(bool littleEndian, DicomTag? tag)
    {
        ReadExactly(_scratch.AsSpan(0, 2), tag);
        return littleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(_scratch) : BinaryPrimitives.ReadUInt16BigEndian(_scratch);
    }

    public uint ReadUInt32(bool littleEndian, DicomTag? tag)
    {
        ReadExactly(_scratch.AsSpan(0, 4), tag);
        return littleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(_scratch) : BinaryPrimitives.ReadUInt32BigEndian(_scratch);
    }

    /// <summary>
    /// Reads a value of a declared length. The length is checked against what is left (when known) and against
    /// <paramref name="maxLength"/> before allocating; on streams of unknown length the buffer grows only as
    /// bytes actually arrive, so a lying length header cannot make us allocate gigabytes.
    /// </summary>
    public byte[] ReadBytes(long length, long maxLength, DicomTag? tag)
    {
        if (length < 0 || length > maxLength)
        {
            throw new DicomFormatException($"Declared length {length} exceeds the limit of {maxLength} bytes", Position, tag);
        }
        if (_end >= 0 && length > Remaining)
        {
            throw new DicomFormatException($"Declared length {length} exceeds the {Remaining} bytes left", Position, tag);
        }
        if (_end >= 0 || length <= ChunkSize)
        {
            var buffer = new byte[length];
            ReadExactly(buffer, tag);
            return buffer;
        }
        using var collected = new MemoryStream();
        var chunk = new byte[ChunkSize];
        var left = length;
        while (left > 0)
        {
            var n = (int)Math.Min(left, ChunkSize);
            ReadExactly(chunk.AsSpan(0, n), tag);
            collected.Write(chunk, 0, n);
            left -= n;
        }
        return collected.ToArray();
    }

    public void Skip(long length, DicomTag? tag)
    {
        if (_end >= 0 && length > Remaining)
        {
            throw new DicomFormatException($"Declared length {length} exceeds the {Remaining} bytes left", Position, tag);
        }
        var chunk = new byte[(int)Math.Min(Math.Max(length, 1), 65536)];
        var left = length;
        while (left > 0)
        {
            var n = (int)Math.Min(left, chunk.Length);
            ReadExactly(chunk.AsSpan(0, n), tag);
            left -= n;
        }
    }
}
