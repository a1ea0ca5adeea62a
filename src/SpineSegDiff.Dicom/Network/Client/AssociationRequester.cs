using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SpineSegDiff.Dicom.Network;

/// <summary>Opens associations to a peer (association requestor side of PS3.8).</summary>
public sealed class AssociationRequester
{
    private readonly DicomClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public AssociationRequester(DicomClientOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.ValidatedCopy();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AssociationRequester>();
        _time = time ?? TimeProvider.System;
    }

    public DicomClientOptions Options => _options;

    /// <summary>
    /// Connects, sends the A-ASSOCIATE-RQ and waits (ARTIM) for the answer. Throws
    /// <see cref="DicomAssociationRejectedException"/> on A-ASSOCIATE-RJ and <see cref="DicomNetworkException"/> when
    /// the peer cannot be reached, times out, aborts or answers with something else.
    /// </summary>
    public async Task<DicomClientAssociation> RequestAsync(IReadOnlyList<PresentationContextProposal> contexts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        if (contexts.Count is 0 or > 128)
        {
            throw new ArgumentException($"An association carries 1 to 128 presentation contexts, not {contexts.Count}.", nameof(contexts));
        }
        var o = _options;
        NetworkLog.AssociationRequesting(_logger, o.CallingAeTitle, o.CalledAeTitle, o.Host, o.Port, contexts.Count);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        NetworkStream? stream = null;
        var handedOver = false;
        try
        {
            try
            {
                await Timeouts.RunAsync(_time, o.ConnectTimeout, cancellationToken, ct => socket.ConnectAsync(o.Host, o.Port, ct)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException)
            {
                throw new DicomNetworkException($"Cannot connect to {o.Host}:{o.Port}: {ex.Message}", ex);
            }
            stream = new NetworkStream(socket, ownsSocket: true);
            var reader = new PduReader(stream, new PduLimits(o.MaxPduLength));
            var writer = new PduWriter(stream);
            var request = new AAssociateRq(o.CalledAeTitle, o.CallingAeTitle, contexts, new UserInformation
            {
                MaxPduLength = o.MaxPduLength,
                ImplementationClassUid = DicomUids.ImplementationClassUid,
                ImplementationVersionName = DicomUids.ImplementationVersionName,
            });
            Pdu? answer;
            try
            {
                await Timeouts.RunAsync(_time, o.DimseTimeout, cancellationToken, ct => writer.WriteAsync(request, ct)).ConfigureAwait(false);
                answer = await Timeouts.RunAsync(_time, o.ArtimTimeout, cancellationToken, reader.ReadAsync).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or DicomFormatException)
            {
                if (ex is DicomFormatException)
                {
                    await TryAbortAsync(writer, reader.LastErrorReason).ConfigureAwait(false);
                }
                throw new DicomNetworkException($"Association request to {o.Host}:{o.Port} failed: {ex.Message}", ex);
            }
            switch (answer)
            {
                case AAssociateAc accept:
                    var association = Accepted(request, accept, stream, reader);
                    stream = null; // owned by the association now
                    handedOver = true;
                    return association;
                case AAssociateRj reject:
                    NetworkLog.ClientAssociationRejected(_logger, o.CallingAeTitle, o.CalledAeTitle, o.Host, o.Port, reject);
                    throw new DicomAssociationRejectedException(reject);
                case AAbort abort:
                    throw new DicomAssociationAbortedException(abort, byPeer: true);
                case null:
                    throw new DicomNetworkException($"{o.Host}:{o.Port} closed the connection instead of answering the association request.");
                default:
                    await TryAbortAsync(writer, AbortReason.UnexpectedPdu).ConfigureAwait(false);
                    throw new DicomNetworkException($"{o.Host}:{o.Port} answered the association request with {PduDecoder.Name(answer.Type)}.");
            }
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            else if (!handedOver)
            {
                socket.Dispose();
            }
        }
    }

    private DicomClientAssociation Accepted(AAssociateRq request, AAssociateAc accept, NetworkStream stream, PduReader reader)
    {
        var o = _options;
        var proposals = request.PresentationContexts.ToDictionary(p => p.Id);
        var accepted = new List<AcceptedPresentationContext>();
        foreach (var result in accept.PresentationContexts)
        {
            // Only a context we proposed, accepted with a syntax we proposed for it, can be used (PS3.8 9.3.3.2).
            if (result.Result == PresentationContextResultCode.Acceptance
                && proposals.TryGetValue(result.Id, out var proposal)
                && result.TransferSyntax is { } ts
                && proposal.TransferSyntaxes.Contains(ts, StringComparer.Ordinal))
            {
                accepted.Add(new AcceptedPresentationContext(result.Id, proposal.AbstractSyntax, DicomTransferSyntax.FromUid(ts)));
            }
        }
        var peerMax = accept.UserInformation.MaxPduLength;
        if (peerMax is > 0 and < PdvFragmenter.MinimumPeerMaxPduLength)
        {
            throw new DicomNetworkException($"{o.Host}:{o.Port} accepts PDUs of at most {peerMax} bytes, too small to carry a message.");
        }
        NetworkLog.ClientAssociationAccepted(_logger, o.CallingAeTitle, o.CalledAeTitle, o.Host, o.Port, accepted.Count, request.PresentationContexts.Count, peerMax);
        return new DicomClientAssociation(o, stream, reader, PdvFragmenter.MaxPdvDataLength(peerMax, (int)o.MaxPduLength), accepted, _logger, _time);
    }

    private async Task TryAbortAsync(PduWriter writer, AbortReason reason)
    {
        try
        {
            await Timeouts.RunAsync(_time, TimeSpan.FromSeconds(2), CancellationToken.None,
                ct => writer.WriteAsync(new AAbort(AbortSource.ServiceProvider, reason), ct)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or ObjectDisposedException)
        {
            // Best effort before closing.
        }
    }
}
