namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// Writes PDUs to a connection. P-DATA-TF PDUs are assembled in one reused buffer and written with a single call,
/// so each PDU leaves as few TCP segments as possible (TCP_NODELAY is on).
/// </summary>
public sealed class PduWriter
{
    private readonly Stream _stream;
    private byte[] _buffer = [];

    public PduWriter(Stream stream)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
    }

    public async ValueTask WriteAsync(Pdu pdu, CancellationToken cancellationToken)
    {
        var bytes = PduEncoder.Encode(pdu);
        await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a P-DATA-TF carrying one PDV; the caller sizes <paramref name="data"/> to the peer's maximum.</summary>
    public async ValueTask WritePdvAsync(byte contextId, bool isCommand, bool isLast, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var total = PduEncoder.SinglePdvOverhead + data.Length;
        if (_buffer.Length < total)
        {
            _buffer = new byte[total];
        }
        PduEncoder.WriteSinglePdvHeader(_buffer, contextId, isCommand, isLast, data.Length);
        data.Span.CopyTo(_buffer.AsSpan(PduEncoder.SinglePdvOverhead));
        await _stream.WriteAsync(_buffer.AsMemory(0, total), cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes a P-DATA-TF carrying one PDV whose data is filled in place by <paramref name="fill"/> (used to stream a
    /// file straight into the PDU buffer without an intermediate copy).
    /// </summary>
    internal async ValueTask WritePdvAsync(byte contextId, bool isCommand, bool isLast, int dataLength,
        Func<Memory<byte>, CancellationToken, ValueTask> fill, CancellationToken cancellationToken)
    {
        var total = PduEncoder.SinglePdvOverhead + dataLength;
        if (_buffer.Length < total)
        {
            _buffer = new byte[total];
        }
        await fill(_buffer.AsMemory(PduEncoder.SinglePdvOverhead, dataLength), cancellationToken).ConfigureAwait(false);
        PduEncoder.WriteSinglePdvHeader(_buffer, contextId, isCommand, isLast, dataLength);
        await _stream.WriteAsync(_buffer.AsMemory(0, total), cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
