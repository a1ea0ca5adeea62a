using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// One inbound TCP connection, from accept to close: waits (under ARTIM) for the A-ASSOCIATE-RQ, negotiates, then
/// serves C-ECHO and C-STORE one operation at a time (PS3.8 state machine, acceptor side). Every wait is bounded:
/// ARTIM before association and after release/abort/reject, the idle timeout between messages, the DIMSE timeout
/// within a message and for every write. Any protocol violation aborts this association only.
/// </summary>
internal sealed class ScpConnection
{
    /// <summary>Bound on sending our A-ABORT when shutting down: the peer may not be reading.</summary>
    private static readonly TimeSpan ShutdownAbortTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Largest P-DATA-TF read (only to be refused as unexpected) before an association exists.</summary>
    private const uint PreAssociationMaxPDataLength = 1024;
    private const int ReadBufferSize = 32 * 1024;

    /// <summary>What we read and discard while waiting for the peer to close; a peer still sending is not waited for.</summary>
    private const int MaxDrainBytes = 1 << 20;

    private readonly DicomServer _server;
    private readonly DicomServerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Socket _socket;
    private readonly long _id;
    private readonly CancellationToken _shutdown;
    private readonly IPEndPoint? _remote;
    private PduReader _reader = null!;
    private PduWriter _writer = null!;

    /// <summary>Set once we sent our last PDU (RJ, RP or A-ABORT): wait for the peer to close before closing.</summary>
    private bool _closeGracefully;
    private bool _leftPending;

    /// <summary>The C-STORE in progress (one operation at a time): its span ends when it is answered.</summary>
    private Activity? _storeActivity;

    public ScpConnection(DicomServer server, long id, Socket socket, CancellationToken shutdown)
    {
        _server = server;
        _options = server.Options;
        _logger = server.Logger;
        _time = server.Time;
        _socket = socket;
        _id = id;
        _shutdown = shutdown;
        _remote = socket.RemoteEndPoint as IPEndPoint;
    }

    public async Task RunAsync()
    {
        try
        {
            _socket.NoDelay = true;
            await using var stream = new NetworkStream(_socket, ownsSocket: true);
            // Until associated, only an A-ASSOCIATE-RQ is legal: a large P-DATA-TF header is refused from the header, so
            // hundreds of pending sockets cannot each make us allocate a full PDU buffer.
            // Reads go through a buffer so a PDU header and the PDUs a sender writes back to back cost one receive
            // call, not one each (measured with bench-store); writes go straight to the socket.
            _reader = new PduReader(new BufferedStream(stream, ReadBufferSize), new PduLimits(PreAssociationMaxPDataLength));
            _writer = new PduWriter(stream);
            NetworkLog.ConnectionAccepted(_logger, _id, _remote);

            await HandleConnectionAsync().ConfigureAwait(false);
            if (_closeGracefully)
            {
                await CloseGracefullyAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Shutdown before an association existed: closing the socket is all there is to do.
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or TimeoutException)
        {
            NetworkLog.ConnectionLost(_logger, _id, ex.Message);
        }
        catch (Exception ex)
        {
            NetworkLog.ConnectionFailed(_logger, _id, ex);
        }
        finally
        {
            LeavePending();
            _socket.Dispose();
        }
    }

    private async Task HandleConnectionAsync()
    {
        Pdu? first = null;
        DicomFormatException? malformed = null;
        try
        {
            first = await Timeouts.RunAsync(_time, _options.ArtimTimeout, _shutdown, _reader.ReadAsync).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            NetworkLog.ArtimExpired(_logger, _id, _remote, _options.ArtimTimeout);
            return;
        }
        catch (DicomFormatException ex)
        {
            malformed = ex;
        }
        finally
        {
            // Whatever came, this socket no longer waits to associate: free its pending slot before anything slow.
            LeavePending();
        }

        if (malformed is not null)
        {
            await AbortAfterProtocolErrorAsync(_reader.LastErrorReason, malformed.Message).ConfigureAwait(false);
            return;
        }
        switch (first)
        {
            case null:
            case AAbort:
                return;
            case AAssociateRq request:
                await AssociateAsync(request).ConfigureAwait(false);
                return;
            default:
                await AbortAfterProtocolErrorAsync(AbortReason.UnexpectedPdu, $"{PduDecoder.Name(first.Type)} before A-ASSOCIATE-RQ").ConfigureAwait(false);
                return;
        }
    }

    private void LeavePending()
    {
        if (!_leftPending)
        {
            _leftPending = true;
            _server.OnConnectionLeftPending();
        }
    }

    private async Task AssociateAsync(AAssociateRq request)
    {
        var callingAe = AeTitle.ForLog(request.CallingAeTitle);
        var calledAe = AeTitle.ForLog(request.CalledAeTitle);
        // The root of a study's trace: the instances stored here lead to the series' routing span, the bus carries
        // the context on to the worker and back to the export.
        using var activity = DicomServerTelemetry.Source.StartActivity("dicom.association", ActivityKind.Server, parentContext: default);
        activity?.SetTag("dicom.calling_ae_title", callingAe);
        activity?.SetTag("dicom.called_ae_title", calledAe);
        activity?.SetTag("network.peer.address", _remote?.Address.ToString());
        activity?.SetTag("spineseg.association_id", _id);
        var negotiation = _server.Negotiator.Negotiate(request);
        if (negotiation.Reject is { } reject)
        {
            Rejected(activity, callingAe, calledAe, string.Create(CultureInfo.InvariantCulture, $"{reject.Result}/{reject.Source}/{reject.Reason}"));
            NetworkLog.AssociationRejected(_logger, _id, callingAe, calledAe, _remote, reject);
            await SendAsync(reject).ConfigureAwait(false);
            _closeGracefully = true;
            return;
        }
        // After the permanent checks (a caller refused for good need not hear about our disk), before taking a slot.
        var capacity = _server.Sink.CheckCapacity();
        if (!capacity.IsAvailable)
        {
            Rejected(activity, callingAe, calledAe, "storage-low");
            NetworkLog.StorageLow(_logger, _id, callingAe, capacity.AvailableBytes >> 20, capacity.MinimumBytes >> 20);
            await SendAsync(AssociationNegotiator.TemporaryCongestion).ConfigureAwait(false);
            _closeGracefully = true;
            return;
        }
        if (!_server.TryEnterAssociation(out var active))
        {
            Rejected(activity, callingAe, calledAe, "association-limit");
            NetworkLog.AssociationLimitReached(_logger, _id, callingAe, active, _options.MaxAssociations);
            await SendAsync(AssociationNegotiator.LimitExceeded).ConfigureAwait(false);
            _closeGracefully = true;
            return;
        }

        _reader.Limits = new PduLimits(_options.MaxPduLength);
        var startedAt = _time.GetUtcNow();
        var association = new Association(_id, request, negotiation.AcceptedContexts);
        var reason = AssociationEndReason.ConnectionLost;
        try
        {
            await SendAsync(negotiation.Accept!).ConfigureAwait(false);
            _server.Telemetry.AssociationAccepted(callingAe);
            activity?.SetTag("dicom.association.result", "accepted");
            AuditAssociation(activity, "association.accepted", callingAe, calledAe, null);
            NetworkLog.AssociationAccepted(_logger, _id, callingAe, calledAe, _remote, negotiation.AcceptedContexts.Count,
                request.PresentationContexts.Count, request.UserInformation.MaxPduLength);
            reason = await ServeAsync(association).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            reason = AssociationEndReason.Shutdown;
            await TrySendAbortOnShutdownAsync().ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A write did not complete within the DIMSE timeout: the peer stopped reading.
            reason = AssociationEndReason.DimseTimeout;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            NetworkLog.ConnectionLost(_logger, _id, ex.Message);
            reason = AssociationEndReason.ConnectionLost;
        }
        finally
        {
            activity?.SetTag("dicom.association.end", reason.ToString());
            activity?.SetTag("dicom.instances.stored", association.Stored);
            activity?.SetTag("dicom.instances.failed", association.Failed);
            EndStoreSpan(null);
            _server.LeaveAssociation();
            NetworkLog.AssociationEnded(_logger, _id, reason, association.Stored, association.Failed, association.Echoes);
            _server.RaiseAssociationEnded(new AssociationEndedEventArgs
            {
                AssociationId = _id,
                CallingAeTitle = request.CallingAeTitle,
                CalledAeTitle = request.CalledAeTitle,
                RemoteEndPoint = _remote,
                StartedAt = startedAt,
                EndedAt = _time.GetUtcNow(),
                Reason = reason,
                Instances = association.Instances,
            });
        }
    }

    private void Rejected(Activity? activity, string callingAe, string calledAe, string reason)
    {
        _server.Telemetry.AssociationRejected(reason);
        activity?.SetTag("dicom.association.result", "rejected");
        AuditAssociation(activity, "association.rejected", callingAe, calledAe, reason);
    }

    private void AuditAssociation(Activity? activity, string name, string callingAe, string calledAe, string? reason)
    {
        if (activity is null)
        {
            return;
        }
        var tags = new ActivityTagsCollection
        {
            ["dicom.calling_ae_title"] = callingAe,
            ["dicom.called_ae_title"] = calledAe,
            ["network.peer.address"] = _remote?.Address.ToString(),
        };
        if (reason is not null)
        {
            tags["spineseg.reason"] = reason;
        }
        activity.AddEvent(new ActivityEvent("audit." + name, tags: tags));
    }

    /// <summary>Ends the C-STORE span (at its response, or when the association ends first).</summary>
    private void EndStoreSpan(ushort? status)
    {
        if (_storeActivity is not { } store)
        {
            return;
        }
        _storeActivity = null;
        if (status is { } s)
        {
            var text = string.Create(CultureInfo.InvariantCulture, $"0x{s:X4}");
            store.SetTag("dicom.status", text);
            if (!StoreStatus.IsStored(s))
            {
                store.SetStatus(ActivityStatusCode.Error, text);
            }
        }
        else
        {
            store.SetStatus(ActivityStatusCode.Error, "not answered");
        }
        store.Dispose();
    }

    private async Task<AssociationEndReason> ServeAsync(Association association)
    {
        var assembler = new DimseMessageAssembler(association.Contexts.ContainsKey);
        var sender = new DimseMessageSender(_writer, PdvFragmenter.MaxPdvDataLength(association.PeerMaxPduLength, (int)_options.MaxPduLength));
        IncomingMessage? incoming = null;
        try
        {
            while (true)
            {
                var inFlight = assembler.MessageInFlight;
                var timeout = inFlight ? _options.DimseTimeout : _options.IdleTimeout;
                Pdu? pdu;
                try
                {
                    pdu = await Timeouts.RunAsync(_time, timeout, _shutdown, _reader.ReadAsync).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    if (inFlight)
                    {
                        NetworkLog.DimseTimeout(_logger, _id, timeout);
                    }
                    else
                    {
                        NetworkLog.IdleTimeout(_logger, _id, timeout);
                    }
                    await SendAsync(new AAbort(AbortSource.ServiceProvider, AbortReason.NotSpecified)).ConfigureAwait(false);
                    _closeGracefully = true;
                    return inFlight ? AssociationEndReason.DimseTimeout : AssociationEndReason.IdleTimeout;
                }
                catch (DicomFormatException ex)
                {
                    await AbortAfterProtocolErrorAsync(_reader.LastErrorReason, ex.Message).ConfigureAwait(false);
                    return AssociationEndReason.ProtocolError;
                }

                switch (pdu)
                {
                    case null:
                        return AssociationEndReason.ConnectionLost;
                    case PDataTf data:
                        foreach (var pdv in data.Values)
                        {
                            AssemblerEvent message;
                            try
                            {
                                message = assembler.Accept(pdv);
                            }
                            catch (DicomFormatException ex)
                            {
                                await AbortAfterProtocolErrorAsync(AbortReason.InvalidPduParameterValue, ex.Message).ConfigureAwait(false);
                                return AssociationEndReason.ProtocolError;
                            }
                            incoming = await HandleAsync(association, sender, message, incoming).ConfigureAwait(false);
                        }
                        break;
                    case AReleaseRq:
                        NetworkLog.ReleaseRequested(_logger, _id);
                        await SendAsync(new AReleaseRp()).ConfigureAwait(false);
                        _closeGracefully = true;
                        return AssociationEndReason.Released;
                    case AAbort abort:
                        NetworkLog.AbortedByPeer(_logger, _id, abort);
                        return AssociationEndReason.AbortedByPeer;
                    default:
                        NetworkLog.UnexpectedPdu(_logger, _id, PduDecoder.Name(pdu.Type));
                        await AbortAfterProtocolErrorAsync(AbortReason.UnexpectedPdu, $"{PduDecoder.Name(pdu.Type)} on an established association").ConfigureAwait(false);
                        return AssociationEndReason.ProtocolError;
                }
            }
        }
        finally
        {
            if (incoming is not null)
            {
                // The association ended mid-dataset: discard what was received (no commit, the sink removes its temp file).
                await incoming.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Acts on one reassembled piece of a message; returns the message whose dataset is still arriving, if any.</summary>
    private async ValueTask<IncomingMessage?> HandleAsync(Association association, DimseMessageSender sender, AssemblerEvent message, IncomingMessage? incoming)
    {
        switch (message.Kind)
        {
            case AssemblerEventKind.Command:
                return await OnCommandAsync(association, sender, message.ContextId, message.Command!).ConfigureAwait(false);
            case AssemblerEventKind.Data:
                // The assembler only yields data after a command that announced a dataset, so incoming is set.
                await incoming!.WriteAsync(message.Data, _shutdown).ConfigureAwait(false);
                if (!message.IsLast)
                {
                    return incoming;
                }
                await using (incoming.ConfigureAwait(false))
                {
                    var outcome = await incoming.CompleteAsync(_shutdown).ConfigureAwait(false);
                    if (incoming.IsAnswered)
                    {
                        await RespondAsync(association, sender, message.ContextId, incoming.Request, outcome, incoming.BytesReceived).ConfigureAwait(false);
                    }
                }
                return null;
            default:
                return incoming;
        }
    }

    private async ValueTask<IncomingMessage?> OnCommandAsync(Association association, DimseMessageSender sender, byte contextId, DimseCommand command)
    {
        var context = association.Contexts[contextId];
        switch (command.CommandField)
        {
            case DimseCommandField.CEchoRequest:
                if (command.HasDataSet)
                {
                    return IncomingMessage.Draining(command, new StoreOutcome(DimseStatus.MistypedArgument, "C-ECHO-RQ carries no data set"), _logger, _id);
                }
                association.Echoes++;
                await SendResponseAsync(sender, contextId, DimseCommand.CreateEchoResponse(command.MessageId ?? 0, DimseStatus.Success)).ConfigureAwait(false);
                NetworkLog.EchoAnswered(_logger, _id, command.MessageId ?? 0);
                return null;
            case DimseCommandField.CStoreRequest:
                return await OnStoreRequestAsync(association, sender, context, command).ConfigureAwait(false);
            case DimseCommandField.CCancelRequest:
                // C-CANCEL has no response, and we never have an operation outstanding for it to cancel.
                return command.HasDataSet ? IncomingMessage.Discarding(command, _logger, _id) : null;
            default:
                if (command.IsResponse)
                {
                    // We issue no requests on an inbound association, so there is nothing to match a response to.
                    NetworkLog.UnexpectedPdu(_logger, _id, $"{command.CommandField} response");
                    return command.HasDataSet ? IncomingMessage.Discarding(command, _logger, _id) : null;
                }
                NetworkLog.UnsupportedCommand(_logger, _id, command.CommandField, (ushort)command.CommandField, DimseStatus.UnrecognizedOperation);
                var refusal = new StoreOutcome(DimseStatus.UnrecognizedOperation, "Operation not supported by this node");
                if (command.HasDataSet)
                {
                    return IncomingMessage.Draining(command, refusal, _logger, _id);
                }
                await RespondAsync(association, sender, contextId, command, refusal, 0).ConfigureAwait(false);
                return null;
        }
    }

    private async ValueTask<IncomingMessage?> OnStoreRequestAsync(Association association, DimseMessageSender sender, AcceptedPresentationContext context, DimseCommand command)
    {
        var messageId = command.MessageId ?? 0;
        NetworkLog.StoreRequested(_logger, _id, messageId, context.Id, command.AffectedSopClassUid, command.AffectedSopInstanceUid);
        EndStoreSpan(null);
        // Only the SOP class: the instance UID is tagged by the gateway, which knows whether UIDs are to be hashed.
        _storeActivity = DicomServerTelemetry.Source.StartActivity("dicom.c-store", ActivityKind.Server);
        _storeActivity?.SetTag("dicom.sop_class_uid", command.AffectedSopClassUid);
        StoreOutcome? refusal = null;
        if (!command.HasDataSet)
        {
            refusal = new StoreOutcome(DimseStatus.CannotUnderstand, "C-STORE-RQ without a data set");
        }
        else if (!IsPlausibleUid(command.AffectedSopClassUid) || !IsPlausibleUid(command.AffectedSopInstanceUid))
        {
            refusal = new StoreOutcome(DimseStatus.CannotUnderstand, "Missing or malformed affected SOP class or instance UID");
        }
        else if (!string.Equals(command.AffectedSopClassUid, context.AbstractSyntax, StringComparison.Ordinal))
        {
            // The dataset would be stored under a SOP class the context did not negotiate: refuse it (PS3.4 B.2.3).
            refusal = new StoreOutcome(DimseStatus.SopClassNotSupported, "SOP class differs from the presentation context's abstract syntax");
        }
        if (refusal is { } refused)
        {
            if (command.HasDataSet)
            {
                return IncomingMessage.Draining(command, refused, _logger, _id);
            }
            await RespondAsync(association, sender, context.Id, command, refused, 0).ConfigureAwait(false);
            return null;
        }

        var storeContext = new StoreRequestContext(association.Request.CallingAeTitle, association.Request.CalledAeTitle, _remote,
            command.AffectedSopClassUid!, command.AffectedSopInstanceUid!, context.TransferSyntax, _id);
        try
        {
            var transaction = await _server.Sink.BeginAsync(storeContext, _shutdown).ConfigureAwait(false);
            return IncomingMessage.Storing(command, transaction, _logger, _id);
        }
        catch (Exception ex) when (!_shutdown.IsCancellationRequested)
        {
            var failure = StoreStatus.FromException(ex);
            NetworkLog.StoreFailed(_logger, _id, messageId, failure.Status, ex.GetType().Name, ex.Message);
            return IncomingMessage.Draining(command, failure, _logger, _id);
        }
    }

    private async ValueTask RespondAsync(Association association, DimseMessageSender sender, byte contextId, DimseCommand request, StoreOutcome outcome, long bytes)
    {
        var messageId = request.MessageId ?? 0;
        if (request.CommandField == DimseCommandField.CStoreRequest)
        {
            association.Instances.Add(new ReceivedInstance(request.AffectedSopClassUid ?? string.Empty, request.AffectedSopInstanceUid ?? string.Empty, outcome.Status));
            NetworkLog.StoreAnswered(_logger, _id, messageId, outcome.Status, bytes);
            _server.Telemetry.InstanceReceived(AeTitle.ForLog(association.Request.CallingAeTitle), StoreStatus.IsStored(outcome.Status));
            _storeActivity?.SetTag("dicom.bytes", bytes);
            EndStoreSpan(outcome.Status);
        }
        var field = (DimseCommandField)((ushort)request.CommandField | 0x8000);
        var response = DimseCommand.CreateResponse(field, messageId, request.AffectedSopClassUid, request.AffectedSopInstanceUid, outcome.Status, outcome.ErrorComment);
        await SendResponseAsync(sender, contextId, response).ConfigureAwait(false);
    }

    private ValueTask SendResponseAsync(DimseMessageSender sender, byte contextId, DimseCommand response) =>
        Timeouts.RunAsync(_time, _options.DimseTimeout, _shutdown, ct => sender.SendCommandAsync(contextId, response, ct));

    private ValueTask SendAsync(Pdu pdu) =>
        Timeouts.RunAsync(_time, _options.DimseTimeout, _shutdown, ct => _writer.WriteAsync(pdu, ct));

    private async Task AbortAfterProtocolErrorAsync(AbortReason reason, string error)
    {
        NetworkLog.ProtocolError(_logger, _id, reason, error);
        try
        {
            await SendAsync(new AAbort(AbortSource.ServiceProvider, reason)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or TimeoutException)
        {
            return; // The peer is gone or not reading; closing is all that is left.
        }
        _closeGracefully = true;
    }

    private async Task TrySendAbortOnShutdownAsync()
    {
        try
        {
            await Timeouts.RunAsync(_time, ShutdownAbortTimeout, CancellationToken.None,
                ct => _writer.WriteAsync(new AAbort(AbortSource.ServiceUser, AbortReason.NotSpecified), ct)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or TimeoutException or OperationCanceledException)
        {
            // Best effort: the socket is closed right after either way.
        }
    }

    /// <summary>
    /// After our A-ASSOCIATE-RJ, A-RELEASE-RP or A-ABORT: signal end of data and wait (ARTIM) for the peer to close,
    /// so our last PDU is read before the connection goes (closing with unread input would reset it).
    /// </summary>
    private async Task CloseGracefullyAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            var scratch = new byte[4096];
            var drained = 0;
            await Timeouts.RunAsync(_time, _options.ArtimTimeout, _shutdown, async ct =>
            {
                int n;
                while ((n = await _socket.ReceiveAsync(scratch, SocketFlags.None, ct).ConfigureAwait(false)) > 0)
                {
                    drained += n;
                    if (drained > MaxDrainBytes)
                    {
                        break;
                    }
                }
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or TimeoutException or OperationCanceledException)
        {
            // The peer did not close in time or reset the connection: we close regardless.
        }
    }

    private static bool IsPlausibleUid(string? uid) =>
        uid is { Length: > 0 and <= 64 } && uid.All(c => c is >= '0' and <= '9' or '.');

    /// <summary>State of an accepted association.</summary>
    private sealed class Association
    {
        public Association(long id, AAssociateRq request, IReadOnlyList<AcceptedPresentationContext> contexts)
        {
            Id = id;
            Request = request;
            Contexts = contexts.ToDictionary(c => c.Id);
            PeerMaxPduLength = request.UserInformation.MaxPduLength;
        }

        public long Id { get; }

        public AAssociateRq Request { get; }

        public Dictionary<byte, AcceptedPresentationContext> Contexts { get; }

        public uint PeerMaxPduLength { get; }

        public List<ReceivedInstance> Instances { get; } = [];

        public int Echoes { get; set; }

        public int Stored => Instances.Count(i => StoreStatus.IsStored(i.Status));

        public int Failed => Instances.Count - Stored;
    }
}
