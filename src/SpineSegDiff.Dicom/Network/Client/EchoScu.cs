using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Dicom.Network;

/// <summary>Verification SCU: associates, sends one C-ECHO, releases.</summary>
public sealed class EchoScu
{
    private readonly AssociationRequester _requester;

    public EchoScu(DicomClientOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        _requester = new AssociationRequester(options, loggerFactory, time);
    }

    /// <summary>Returns the C-ECHO-RSP status (0x0000 on success). Rejections, aborts and timeouts throw <see cref="DicomNetworkException"/>.</summary>
    public async Task<ushort> EchoAsync(CancellationToken cancellationToken)
    {
        var contexts = new[]
        {
            new PresentationContextProposal(1, DicomUids.Verification,
                [DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid]),
        };
        var association = await _requester.RequestAsync(contexts, cancellationToken).ConfigureAwait(false);
        await using (association.ConfigureAwait(false))
        {
            var status = await association.EchoAsync(cancellationToken).ConfigureAwait(false);
            await association.ReleaseAsync(cancellationToken).ConfigureAwait(false);
            return status;
        }
    }
}
