namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// Reads PDUs from a connection. The header is checked against <see cref="Limits"/> before the body is read, so a
/// hostile length never turns into an allocation; the body buffer is reused between PDUs. PDV data returned by
/// <see cref="ReadAsync"/> points into that buffer and is valid only until the next call.
/// </summary>
public sealed class PduReader
{
    private const int InitialBufferSize = 16 * 1024;
    private readonly Stream _stream;
    private readonly byte[] _header = new byte[PduDecoder.HeaderLength];
    private byte[] _buffer = new byte[InitialBufferSize];

    public PduReader(Stream stream, PduLimits limits)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        Limits = limits;
    }

    /// <summary>The limits for the next PDU; the association updates them once the maximum length is negotiated.</summary>
    public PduLimits Limits { get; set; }

    /// <summary>Bytes consumed from the connection so far: the offset that errors report.</summary>
    public long Position { get; private set; }

    /// <summary>The A-ABORT reason (PS3.8 table 9-26) that fits the last <see cref="DicomFormatException"/> thrown.</summary>
    public AbortReason LastErrorReason { get; private set; } = AbortReason.NotSpecified;

    /// <summary>
    /// Reads the next PDU; returns null when the peer closed the connection cleanly between PDUs. A PDU cut short by
    /// the peer closing, or any malformation, throws <see cref="DicomFormatException"/>.
    /// </summary>
    public async ValueTask<Pdu?> ReadAsync(CancellationToken cancellationToken)
    {
        var start = Position;
        var got = await _stream.ReadAtLeastAsync(_header, PduDecoder.HeaderLength, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }
        if (got < PduDecoder.HeaderLength)
        {
            Position += got;
            throw Fail(AbortReason.InvalidPduParameterValue, new DicomFormatException($"Connection closed inside a PDU header ({got} of 6 bytes)", Position));
        }
        PduHeader header;
        try
        {
            header = PduDecoder.ReadHeader(_header, Limits, start);
        }
        catch (DicomFormatException ex)
        {
            throw Fail(PduDecoder.IsKnownType(_header[0]) ? AbortReason.InvalidPduParameterValue : AbortReason.UnrecognizedPdu, ex);
        }
        Position += PduDecoder.HeaderLength;
        var length = (int)header.Length; // ReadHeader bounded it by the limits, which fit an int
        if (_buffer.Length < length)
        {
            // Grow to what this PDU needs (never more than the limits allowed): one real PDU at a time, not a guess.
            _buffer = new byte[length];
        }
        var body = _buffer.AsMemory(0, length);
        got = await _stream.ReadAtLeastAsync(body, length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        Position += got;
        if (got < length)
        {
            throw Fail(AbortReason.InvalidPduParameterValue,
                new DicomFormatException($"Connection closed inside a {PduDecoder.Name(header.Type)} PDU ({got} of {length} body bytes)", Position));
        }
        try
        {
            return PduDecoder.DecodeBody(header.Type, body, start);
        }
        catch (DicomFormatException ex)
        {
            throw Fail(AbortReason.InvalidPduParameterValue, ex);
        }
    }

    private DicomFormatException Fail(AbortReason reason, DicomFormatException ex)
    {
        LastErrorReason = reason;
        return ex;
    }
}
