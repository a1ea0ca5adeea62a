namespace SpineSegDiff.Dicom.Network;

/// <summary>What an acceptor agrees to (derived from <see cref="DicomServerOptions"/>).</summary>
public sealed record AssociationPolicy
{
    /// <summary>AE titles this node answers to.</summary>
    public required IReadOnlyCollection<string> CalledAeTitles { get; init; }

    /// <summary>When false, any called AE title is accepted (useful behind a router that rewrites titles).</summary>
    public bool RequireKnownCalledAeTitle { get; init; } = true;

    /// <summary>Calling AE titles allowed to associate; empty means any.</summary>
    public IReadOnlyCollection<string> AllowedCallingAeTitles { get; init; } = [];

    public required IReadOnlyCollection<string> AcceptedAbstractSyntaxes { get; init; }

    /// <summary>Transfer syntaxes in our order of preference; encapsulated (compressed) ones are never accepted.</summary>
    public required IReadOnlyList<DicomTransferSyntax> AcceptedTransferSyntaxes { get; init; }

    /// <summary>The maximum P-DATA-TF length we advertise and enforce on receipt.</summary>
    public uint MaxPduLength { get; init; } = 262144;
}

/// <summary>The acceptor's answer to an A-ASSOCIATE-RQ: exactly one of <see cref="Accept"/> and <see cref="Reject"/> is set.</summary>
public sealed record NegotiationResult(AAssociateAc? Accept, AAssociateRj? Reject, IReadOnlyList<AcceptedPresentationContext> AcceptedContexts)
{
    public bool IsAccepted => Accept is not null;
}

/// <summary>
/// Decides whether to accept an association and which presentation contexts (PS3.8 section 7.1, PS3.7 annex D).
/// Pure: the same request and policy always give the same answer, so every case is unit-tested without sockets.
/// The association limit is not decided here: it depends on the server's state at that moment.
/// </summary>
public sealed class AssociationNegotiator
{
    private readonly AssociationPolicy _policy;
    private readonly HashSet<string> _abstractSyntaxes;
    private readonly IReadOnlyList<DicomTransferSyntax> _transferSyntaxes;

    public AssociationNegotiator(AssociationPolicy policy)
    {
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        _abstractSyntaxes = new HashSet<string>(policy.AcceptedAbstractSyntaxes.Select(s => s.Trim()), StringComparer.Ordinal);
        // We hold no codecs: a compressed syntax accepted here would give us pixel data we cannot process.
        _transferSyntaxes = policy.AcceptedTransferSyntaxes.Where(t => !t.IsEncapsulated).ToList();
    }

    public NegotiationResult Negotiate(AAssociateRq request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.ProtocolVersion & 1) == 0)
        {
            return Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceProviderAcse, AssociateRejectReason.ProtocolVersionNotSupported);
        }
        if (!string.Equals(request.ApplicationContextName, DicomUids.ApplicationContext, StringComparison.Ordinal))
        {
            return Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.ApplicationContextNameNotSupported);
        }
        if (_policy.RequireKnownCalledAeTitle && !_policy.CalledAeTitles.Any(t => AeTitle.AreEqual(t, request.CalledAeTitle)))
        {
            return Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CalledAeTitleNotRecognized);
        }
        if (_policy.AllowedCallingAeTitles.Count > 0 && !_policy.AllowedCallingAeTitles.Any(t => AeTitle.AreEqual(t, request.CallingAeTitle)))
        {
            return Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CallingAeTitleNotRecognized);
        }
        if (request.UserInformation.MaxPduLength is > 0 and < PdvFragmenter.MinimumPeerMaxPduLength)
        {
            // We could not send a single response to a peer this small; refuse rather than fail later.
            return Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.NoReasonGiven);
        }

        var results = new List<PresentationContextResult>(request.PresentationContexts.Count);
        var accepted = new List<AcceptedPresentationContext>();
        var seen = new HashSet<byte>();
        foreach (var proposal in request.PresentationContexts)
        {
            // Presentation context ids are odd and unique within an association (PS3.8 9.3.2.2).
            if (proposal.Id % 2 == 0 || !seen.Add(proposal.Id))
            {
                results.Add(new PresentationContextResult(proposal.Id, PresentationContextResultCode.NoReason, null));
                continue;
            }
            if (!_abstractSyntaxes.Contains(proposal.AbstractSyntax))
            {
                results.Add(new PresentationContextResult(proposal.Id, PresentationContextResultCode.AbstractSyntaxNotSupported, null));
                continue;
            }
            var chosen = _transferSyntaxes.FirstOrDefault(ours => proposal.TransferSyntaxes.Contains(ours.Uid, StringComparer.Ordinal));
            if (chosen is null)
            {
                results.Add(new PresentationContextResult(proposal.Id, PresentationContextResultCode.TransferSyntaxesNotSupported, null));
                continue;
            }
            results.Add(new PresentationContextResult(proposal.Id, PresentationContextResultCode.Acceptance, chosen.Uid));
            accepted.Add(new AcceptedPresentationContext(proposal.Id, proposal.AbstractSyntax, chosen));
        }

        var acceptedSyntaxes = accepted.Select(a => a.AbstractSyntax).ToHashSet(StringComparer.Ordinal);
        var userInformation = new UserInformation
        {
            MaxPduLength = _policy.MaxPduLength,
            ImplementationClassUid = DicomUids.ImplementationClassUid,
            ImplementationVersionName = DicomUids.ImplementationVersionName,
            // We perform one operation at a time; answer the window only when proposed (PS3.7 D.3.3.3).
            AsyncOperationsWindow = request.UserInformation.AsyncOperationsWindow is null ? null : new AsyncOperationsWindow(1, 1),
            // We never take the SCU role on an incoming association: the requestor may be SCU, we are not its SCU.
            RoleSelections = request.UserInformation.RoleSelections
                .Where(r => acceptedSyntaxes.Contains(r.SopClassUid))
                .GroupBy(r => r.SopClassUid, StringComparer.Ordinal)
                .Select(g => new RoleSelection(g.Key, g.First().ScuRole, ScpRole: false))
                .ToList(),
        };
        var accept = new AAssociateAc(request.CalledAeTitle, request.CallingAeTitle, results, userInformation);
        return new NegotiationResult(accept, null, accepted);
    }

    /// <summary>The answer when the association limit is reached: transient, so the peer retries later (PS3.8 table 9-21).</summary>
    public static AAssociateRj LimitExceeded { get; } =
        new(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, AssociateRejectReason.LocalLimitExceeded);

    private static NegotiationResult Rejected(AssociateRejectResult result, AssociateRejectSource source, byte reason) =>
        new(null, new AAssociateRj(result, source, reason), []);
}
