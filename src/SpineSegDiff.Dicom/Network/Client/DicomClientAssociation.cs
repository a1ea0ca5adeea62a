using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// An association we requested. Operations run one at a time (we negotiate no asynchronous window): each sends a
/// request, its dataset if any, and waits for the matching response under the DIMSE timeout. Any failure leaves the
/// association unusable (<see cref="IsUsable"/> false); dispose it and open a new one.
/// </summary>
public sealed class DicomClientAssociation : IAsyncDisposable
{
    private readonly DicomClientOptions _options;
    private readonly NetworkStream _stream;
    private readonly ProgressStream _progress;
    private readonly PduReader _reader;
    private readonly PduWriter _writer;
    private readonly DimseMessageSender _sender;
    private readonly Dictionary<byte, AcceptedPresentationContext> _contexts;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _operation = new(1, 1);
    private ushort _nextMessageId;
    private bool _closed;

    internal DicomClientAssociation(DicomClientOptions options, NetworkStream stream, PduReader reader, int maxPdvDataLength,
        IReadOnlyList<AcceptedPresentationContext> accepted, ILogger logger, TimeProvider time)
    {
        _options = options;
        _stream = stream;
        _progress = new ProgressStream(stream);
        _reader = reader;
        _writer = new PduWriter(_progress);
        _sender = new DimseMessageSender(_writer, maxPdvDataLength);
        _contexts = accepted.ToDictionary(c => c.Id);
        AcceptedContexts = accepted;
        _logger = logger;
        _time = time;
    }

    /// <summary>The presentation contexts the peer accepted.</summary>
    public IReadOnlyList<AcceptedPresentationContext> AcceptedContexts { get; }

    /// <summary>False once the association was released, aborted or broke.</summary>
    public bool IsUsable => !_closed;

    /// <summary>Largest PDV data length we send to this peer (even).</summary>
    public int MaxPdvDataLength => _sender.MaxPdvDataLength;

    /// <summary>An accepted context for <paramref name="abstractSyntax"/>, preferring the given transfer syntaxes in order.</summary>
    public AcceptedPresentationContext? FindContext(string abstractSyntax, params DicomTransferSyntax[] preferred)
    {
        var candidates = AcceptedContexts.Where(c => c.AbstractSyntax == abstractSyntax).ToList();
        foreach (var syntax in preferred)
        {
            var match = candidates.FirstOrDefault(c => c.TransferSyntax.Uid == syntax.Uid);
            if (match is not null)
            {
                return match;
            }
        }
        return preferred.Length == 0 ? candidates.FirstOrDefault() : null;
    }

    /// <summary>C-ECHO on the Verification context; returns the response status.</summary>
    public async Task<ushort> EchoAsync(CancellationToken cancellationToken)
    {
        var context = FindContext(DicomUids.Verification)
            ?? throw new InvalidOperationException("The peer accepted no Verification presentation context.");
        var response = await SendRequestAsync(context.Id, DimseCommand.CreateEchoRequest(NextMessageId()), null, cancellationToken).ConfigureAwait(false);
        return response.Status ?? throw new DicomNetworkException("The C-ECHO-RSP has no status.");
    }

    /// <summary>
    /// C-STORE of a dataset already encoded in the context's transfer syntax, streamed from <paramref name="dataset"/>
    /// (<paramref name="length"/> bytes, even). Returns the C-STORE-RSP.
    /// </summary>
    public Task<DimseCommand> StoreAsync(byte contextId, string sopClassUid, string sopInstanceUid, Stream dataset, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var request = CreateStoreRequest(contextId, sopClassUid, sopInstanceUid);
        return SendRequestAsync(contextId, request, (sender, ct) => sender.SendDatasetAsync(contextId, dataset, length, ct), cancellationToken);
    }

    /// <summary>C-STORE of an encoded dataset held in memory.</summary>
    public Task<DimseCommand> StoreAsync(byte contextId, string sopClassUid, string sopInstanceUid, ReadOnlyMemory<byte> dataset, CancellationToken cancellationToken)
    {
        var request = CreateStoreRequest(contextId, sopClassUid, sopInstanceUid);
        return SendRequestAsync(contextId, request, (sender, ct) => sender.SendDatasetAsync(contextId, dataset, ct), cancellationToken);
    }

    /// <summary>Orderly release: A-RELEASE-RQ, wait (ARTIM) for A-RELEASE-RP, close. Falls back to closing on failure.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (_closed)
        {
            return;
        }
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Timeouts.RunAsync(_time, _options.DimseTimeout, cancellationToken, ct => _writer.WriteAsync(new AReleaseRq(), ct)).ConfigureAwait(false);
            await Timeouts.RunAsync(_time, _options.ArtimTimeout, cancellationToken, async ct =>
            {
                while (true)
                {
                    var pdu = await _reader.ReadAsync(ct).ConfigureAwait(false);
                    switch (pdu)
                    {
                        case AReleaseRp or AAbort or null:
                            return;
                        case AReleaseRq:
                            // Release collision (PS3.8 9.2.1): as requestor we answer and finish.
                            await _writer.WriteAsync(new AReleaseRp(), ct).ConfigureAwait(false);
                            return;
                        default:
                            continue; // late P-DATA: nothing waits for it any more
                    }
                }
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or DicomFormatException or ObjectDisposedException)
        {
            NetworkLog.ReleaseFailed(_logger, _options.Host, _options.Port, ex.Message);
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
            _operation.Release();
        }
    }

    /// <summary>Sends A-ABORT (service user) and closes.</summary>
    public async Task AbortAsync()
    {
        if (_closed)
        {
            return;
        }
        await SendAbortQuietlyAsync(new AAbort(AbortSource.ServiceUser, AbortReason.NotSpecified)).ConfigureAwait(false);
        await CloseAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await AbortAsync().ConfigureAwait(false);
        _operation.Dispose();
    }

    private DimseCommand CreateStoreRequest(byte contextId, string sopClassUid, string sopInstanceUid)
    {
        if (!_contexts.TryGetValue(contextId, out var context))
        {
            throw new ArgumentException($"Presentation context {contextId} was not accepted.", nameof(contextId));
        }
        if (context.AbstractSyntax != sopClassUid)
        {
            throw new ArgumentException($"Presentation context {contextId} is for {context.AbstractSyntax}, not {sopClassUid}.", nameof(sopClassUid));
        }
        return DimseCommand.CreateStoreRequest(NextMessageId(), sopClassUid, sopInstanceUid);
    }

    private ushort NextMessageId()
    {
        // Message IDs only need to be unique among outstanding operations; wrap-around skips 0 for readability.
        _nextMessageId = (ushort)(_nextMessageId == ushort.MaxValue ? 1 : _nextMessageId + 1);
        return _nextMessageId;
    }

    private async Task<DimseCommand> SendRequestAsync(byte contextId, DimseCommand request,
        Func<DimseMessageSender, CancellationToken, ValueTask>? sendDataset, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            await Timeouts.RunAsync(_time, _options.DimseTimeout, cancellationToken, ct => _sender.SendCommandAsync(contextId, request, ct)).ConfigureAwait(false);
            if (sendDataset is not null)
            {
                await SendDatasetWithProgressDeadlineAsync(sendDataset, cancellationToken).ConfigureAwait(false);
            }
            return await ReceiveResponseAsync(request.MessageId ?? 0, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await SendAbortQuietlyAsync(new AAbort(AbortSource.ServiceUser, AbortReason.NotSpecified)).ConfigureAwait(false);
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
        catch (DicomFormatException ex)
        {
            var abort = new AAbort(AbortSource.ServiceProvider, _reader.LastErrorReason);
            await SendAbortQuietlyAsync(abort).ConfigureAwait(false);
            await CloseAsync().ConfigureAwait(false);
            throw new DicomAssociationAbortedException(abort, byPeer: false, ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or ObjectDisposedException)
        {
            await SendAbortQuietlyAsync(new AAbort(AbortSource.ServiceProvider, AbortReason.NotSpecified)).ConfigureAwait(false);
            await CloseAsync().ConfigureAwait(false);
            throw new DicomNetworkException($"{request.CommandField} to {_options.Host}:{_options.Port} failed: {ex.Message}", ex);
        }
        catch (DicomNetworkException)
        {
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>
    /// Sends the dataset with a deadline that restarts on every PDU: a large instance on a slow link is fine, a peer
    /// that stops reading for <see cref="DicomClientOptions.DimseTimeout"/> is not.
    /// </summary>
    private async Task SendDatasetWithProgressDeadlineAsync(Func<DimseMessageSender, CancellationToken, ValueTask> sendDataset, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.DimseTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        _progress.OnProgress = () => deadline.CancelAfter(_options.DimseTimeout);
        try
        {
            await sendDataset(_sender, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The peer did not take data for {_options.DimseTimeout}.", ex);
        }
        finally
        {
            _progress.OnProgress = null;
        }
    }

    private async Task<DimseCommand> ReceiveResponseAsync(ushort messageId, CancellationToken cancellationToken)
    {
        var assembler = new DimseMessageAssembler(_contexts.ContainsKey);
        DimseCommand? response = null;
        while (true)
        {
            var pdu = await Timeouts.RunAsync(_time, _options.DimseTimeout, cancellationToken, _reader.ReadAsync).ConfigureAwait(false);
            switch (pdu)
            {
                case PDataTf data:
                    foreach (var pdv in data.Values)
                    {
                        var message = assembler.Accept(pdv);
                        if (message.Kind == AssemblerEventKind.Command && message.Command!.IsResponse
                            && message.Command.MessageIdBeingRespondedTo == messageId && message.Command.Status != DimseStatus.Pending)
                        {
                            response = message.Command;
                        }
                        // A response that carries a dataset is complete after its last fragment; we do not use the dataset.
                        if (response is not null && !assembler.MessageInFlight)
                        {
                            return response;
                        }
                    }
                    break;
                case AAbort abort:
                    await CloseAsync().ConfigureAwait(false);
                    throw new DicomAssociationAbortedException(abort, byPeer: true);
                case null:
                    throw new DicomNetworkException($"{_options.Host}:{_options.Port} closed the connection while a response was awaited.");
                default:
                    var unexpected = new AAbort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu);
                    await SendAbortQuietlyAsync(unexpected).ConfigureAwait(false);
                    await CloseAsync().ConfigureAwait(false);
                    throw new DicomAssociationAbortedException(unexpected, byPeer: false,
                        new DicomFormatException($"{PduDecoder.Name(pdu.Type)} while a response was awaited", _reader.Position));
            }
        }
    }

    private async Task SendAbortQuietlyAsync(AAbort abort)
    {
        if (_closed)
        {
            return;
        }
        try
        {
            await Timeouts.RunAsync(_time, TimeSpan.FromSeconds(2), CancellationToken.None, ct => _writer.WriteAsync(abort, ct)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or ObjectDisposedException or OperationCanceledException)
        {
            // Best effort: we close next regardless.
        }
    }

    private async ValueTask CloseAsync()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Passes writes through and reports each completed one, to restart a progress deadline.</summary>
    private sealed class ProgressStream(Stream inner) : Stream
    {
        public Action? OnProgress { get; set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            OnProgress?.Invoke();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            OnProgress?.Invoke();
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
