namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// Sends DIMSE messages as P-DATA-TF PDUs sized for the peer: the command and the dataset always travel in separate
/// PDVs (PS3.8 annex E), each fragment even-sized.
/// </summary>
internal sealed class DimseMessageSender
{
    private readonly PduWriter _writer;
    private readonly int _maxPdvDataLength;

    public DimseMessageSender(PduWriter writer, int maxPdvDataLength)
    {
        _writer = writer;
        _maxPdvDataLength = maxPdvDataLength;
    }

    public int MaxPdvDataLength => _maxPdvDataLength;

    public async ValueTask SendCommandAsync(byte contextId, DimseCommand command, CancellationToken cancellationToken)
    {
        var encoded = command.Encode();
        await SendAsync(contextId, isCommand: true, encoded, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask SendDatasetAsync(byte contextId, ReadOnlyMemory<byte> dataset, CancellationToken cancellationToken) =>
        SendAsync(contextId, isCommand: false, dataset, cancellationToken);

    /// <summary>
    /// Streams <paramref name="length"/> dataset bytes from <paramref name="source"/> straight into PDUs, never holding
    /// more than one PDU in memory. The length must be even (the caller falls back to re-encoding otherwise).
    /// </summary>
    public async ValueTask SendDatasetAsync(byte contextId, Stream source, long length, CancellationToken cancellationToken)
    {
        if (length % 2 != 0)
        {
            throw new ArgumentException($"A dataset of odd length ({length}) cannot be sent in even fragments.", nameof(length));
        }
        foreach (var (_, fragmentLength, isLast) in PdvFragmenter.Fragments(length, _maxPdvDataLength))
        {
            await _writer.WritePdvAsync(contextId, isCommand: false, isLast, fragmentLength,
                async (buffer, ct) =>
                {
                    var read = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
                    if (read < buffer.Length)
                    {
                        throw new IOException($"The dataset source ended early: it changed while being sent.");
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask SendAsync(byte contextId, bool isCommand, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (bytes.Length % 2 != 0)
        {
            throw new ArgumentException($"A {(isCommand ? "command" : "dataset")} of odd length ({bytes.Length}) cannot be sent in even fragments.", nameof(bytes));
        }
        foreach (var (offset, fragmentLength, isLast) in PdvFragmenter.Fragments(bytes.Length, _maxPdvDataLength))
        {
            await _writer.WritePdvAsync(contextId, isCommand, isLast, bytes.Slice((int)offset, fragmentLength), cancellationToken).ConfigureAwait(false);
        }
    }
}
