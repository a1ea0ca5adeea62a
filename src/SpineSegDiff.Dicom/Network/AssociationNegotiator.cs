namespace SpineSegDiff.Dicom.Network;

/// <summary>One called AE title and what an association to it may do.</summary>
/// <param name="AllowedCallingAeTitles">Calling AE titles allowed to associate with this title; empty means any.</param>
public sealed record CalledAePolicy(string AeTitle, IReadOnlyCollection<string> AllowedCallingAeTitles, IReadOnlyCollection<string> AcceptedAbstractSyntaxes);

/// <summary>What an acceptor agrees to (derived from <see cref="DicomServerOptions"/>).</summary>
public sealed record AssociationPolicy
{
    /// <summary>AE titles this node answers to, each with its own settings; the first is the main one.</summary>
    public required IReadOnlyList<CalledAePolicy> AeTitles { get; init; }

    /// <summary>
    /// When false, any called AE title is accepted (useful behind a router that rewrites titles) and one that is not
    /// configured gets the main title's settings.
    /// </summary>
    public bool RequireKnownCalledAeTitle { get; init; } = true;

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
    private readonly IReadOnlyList<(CalledAePolicy Policy, HashSet<string> AbstractSyntaxes)> _aeTitles;
    private readonly IReadOnlyList<DicomTransferSyntax> _transferSyntaxes;

    public AssociationNegotiator(AssociationPolicy policy)
    {
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        if (policy.AeTitles.Count == 0)
        {
            throw new ArgumentException("An acceptor needs at least one AE title.", nameof(policy));
        }
        _aeTitles = [.. policy.AeTitles.Select(t => (t, new HashSet<string>(t.AcceptedAbstractSyntaxes.Select(s => s.Trim()), StringComparer.Ordinal)))];
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
        var called = _aeTitles.FirstOrDefault(t => AeTitle.AreEqual(t.Policy.AeTitle, request.CalledAeTitle));
        if (called.Policy is null)
        {
            if (_policy.RequireKnownCalledAeTitle)
            {
                return Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CalledAeTitleNotRecognized);
            }
            called = _aeTitles[0];
        }
        var (calledPolicy, abstractSyntaxes) = called;
        if (calledPolicy.AllowedCallingAeTitles.Count > 0 && !calledPolicy.AllowedCallingAeTitles.Any(t => AeTitle.AreEqual(t, request.CallingAeTitle)))
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
            if (!abstractSyntaxes.Contains(proposal.AbstractSyntax))
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

    /// <summary>
    /// The answer when the store cannot take data now (free disk below the minimum): transient, so the PACS keeps the
    /// study and retries instead of giving up on it (PS3.8 table 9-21, source 3, reason 1).
    /// </summary>
    public static AAssociateRj TemporaryCongestion { get; } =
        new(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, AssociateRejectReason.TemporaryCongestion);

    private static NegotiationResult Rejected(AssociateRejectResult result, AssociateRejectSource source, byte reason) =>
        new(null, new AAssociateRj(result, source, reason), []);
}
