using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

public class AssociationNegotiatorTests
{
    private static readonly string[] Syntaxes = [DicomUids.Verification, SamplePdus.MrStorage];

    private static AssociationPolicy Policy(params string[] allowedCalling) => new()
    {
        AeTitles = [new CalledAePolicy("SEGNODE", allowedCalling, Syntaxes), new CalledAePolicy("SEGFIX", allowedCalling, Syntaxes)],
        AcceptedTransferSyntaxes = DicomServerOptions.DefaultTransferSyntaxes,
        MaxPduLength = 65536,
    };

    [Fact]
    public void Accepts_known_contexts_preferring_explicit_vr_little_endian()
    {
        var result = new AssociationNegotiator(Policy()).Negotiate(SamplePdus.Request());

        result.IsAccepted.Should().BeTrue();
        var contexts = result.Accept!.PresentationContexts;
        contexts.Should().HaveCount(3);
        contexts[0].Should().Be(new PresentationContextResult(1, PresentationContextResultCode.Acceptance, SamplePdus.Implicit));
        // Proposed JPEG, explicit, implicit: JPEG is refused (no codec), explicit wins over implicit.
        contexts[1].Should().Be(new PresentationContextResult(3, PresentationContextResultCode.Acceptance, SamplePdus.Explicit));
        contexts[2].Should().Be(new PresentationContextResult(5, PresentationContextResultCode.AbstractSyntaxNotSupported, null));
        result.AcceptedContexts.Select(c => (c.Id, c.TransferSyntax.Uid)).Should().Equal((1, SamplePdus.Implicit), (3, SamplePdus.Explicit));
    }

    [Fact]
    public void Answers_with_our_user_information_and_a_window_of_one()
    {
        var info = new AssociationNegotiator(Policy()).Negotiate(SamplePdus.Request()).Accept!.UserInformation;

        info.MaxPduLength.Should().Be(65536);
        info.ImplementationClassUid.Should().Be(DicomUids.ImplementationClassUid);
        info.ImplementationVersionName.Should().Be(DicomUids.ImplementationVersionName);
        info.AsyncOperationsWindow.Should().Be(new AsyncOperationsWindow(1, 1));
        info.RoleSelections.Should().ContainSingle().Which.Should().Be(new RoleSelection(SamplePdus.MrStorage, ScuRole: true, ScpRole: false));
    }

    [Fact]
    public void No_window_is_answered_when_none_was_proposed()
    {
        var request = SamplePdus.Request() with { UserInformation = new UserInformation { MaxPduLength = 0 } };
        new AssociationNegotiator(Policy()).Negotiate(request).Accept!.UserInformation.AsyncOperationsWindow.Should().BeNull();
    }

    [Fact]
    public void Compressed_only_proposal_is_refused_with_transfer_syntaxes_not_supported()
    {
        var request = SamplePdus.Request() with { PresentationContexts = [new PresentationContextProposal(1, SamplePdus.MrStorage, [SamplePdus.JpegBaseline])] };
        var policy = Policy() with { AcceptedTransferSyntaxes = [DicomTransferSyntax.FromUid(SamplePdus.JpegBaseline), DicomTransferSyntax.ExplicitVRLittleEndian] };

        var result = new AssociationNegotiator(policy).Negotiate(request);

        result.Accept!.PresentationContexts.Single().Result.Should().Be(PresentationContextResultCode.TransferSyntaxesNotSupported);
        result.AcceptedContexts.Should().BeEmpty();
    }

    [Fact]
    public void Implicit_is_chosen_when_explicit_is_not_proposed_and_deflated_last()
    {
        var request = SamplePdus.Request() with
        {
            PresentationContexts =
            [
                new PresentationContextProposal(1, SamplePdus.MrStorage, [SamplePdus.Deflated, SamplePdus.Implicit]),
                new PresentationContextProposal(3, SamplePdus.MrStorage, [SamplePdus.Deflated]),
            ],
        };
        var contexts = new AssociationNegotiator(Policy()).Negotiate(request).Accept!.PresentationContexts;
        contexts[0].TransferSyntax.Should().Be(SamplePdus.Implicit);
        contexts[1].TransferSyntax.Should().Be(SamplePdus.Deflated);
    }

    [Fact]
    public void Even_and_duplicate_context_ids_are_refused()
    {
        var request = SamplePdus.Request() with
        {
            PresentationContexts =
            [
                new PresentationContextProposal(2, SamplePdus.MrStorage, [SamplePdus.Explicit]),
                new PresentationContextProposal(3, SamplePdus.MrStorage, [SamplePdus.Explicit]),
                new PresentationContextProposal(3, SamplePdus.MrStorage, [SamplePdus.Explicit]),
            ],
        };
        var contexts = new AssociationNegotiator(Policy()).Negotiate(request).Accept!.PresentationContexts;
        contexts.Select(c => c.Result).Should().Equal(
            PresentationContextResultCode.NoReason, PresentationContextResultCode.Acceptance, PresentationContextResultCode.NoReason);
    }

    [Fact]
    public void Unknown_called_ae_title_is_rejected_permanently_with_reason_7()
    {
        var result = new AssociationNegotiator(Policy()).Negotiate(SamplePdus.Request(called: "OTHER"));
        result.Reject.Should().Be(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 7));
    }

    [Fact]
    public void Extra_called_ae_titles_are_accepted_and_the_check_can_be_disabled()
    {
        new AssociationNegotiator(Policy()).Negotiate(SamplePdus.Request(called: "SEGFIX")).IsAccepted.Should().BeTrue();
        new AssociationNegotiator(Policy() with { RequireKnownCalledAeTitle = false }).Negotiate(SamplePdus.Request(called: "ANY")).IsAccepted.Should().BeTrue();
    }

    [Fact]
    public void Called_ae_title_comparison_is_case_sensitive()
    {
        new AssociationNegotiator(Policy()).Negotiate(SamplePdus.Request(called: "segnode")).IsAccepted.Should().BeFalse();
    }

    [Fact]
    public void Calling_ae_title_outside_the_allow_list_is_rejected_with_reason_3()
    {
        var negotiator = new AssociationNegotiator(Policy("PACS", "MODALITY"));
        negotiator.Negotiate(SamplePdus.Request(calling: "MODALITY")).IsAccepted.Should().BeTrue();
        negotiator.Negotiate(SamplePdus.Request(calling: "INTRUDER")).Reject
            .Should().Be(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 3));
    }

    [Fact]
    public void Each_called_ae_title_applies_its_own_calling_allow_list()
    {
        var negotiator = new AssociationNegotiator(Policy() with
        {
            AeTitles = [new CalledAePolicy("SEGNODE", [], Syntaxes), new CalledAePolicy("SEGFIX", ["READING1"], Syntaxes)],
        });

        negotiator.Negotiate(SamplePdus.Request(called: "SEGNODE", calling: "ANYONE")).IsAccepted.Should().BeTrue("SEGNODE allows any caller");
        negotiator.Negotiate(SamplePdus.Request(called: "SEGFIX", calling: "READING1")).IsAccepted.Should().BeTrue();
        negotiator.Negotiate(SamplePdus.Request(called: "SEGFIX", calling: "ANYONE")).Reject
            .Should().Be(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CallingAeTitleNotRecognized));
    }

    [Fact]
    public void Each_called_ae_title_accepts_its_own_sop_classes()
    {
        var negotiator = new AssociationNegotiator(Policy() with
        {
            AeTitles = [new CalledAePolicy("SEGNODE", [], Syntaxes), new CalledAePolicy("ECHOONLY", [], [DicomUids.Verification])],
        });

        // The sample request proposes Verification, MR storage and an unknown class (contexts 1, 3, 5).
        Results(negotiator.Negotiate(SamplePdus.Request(called: "SEGNODE")))
            .Should().Equal(PresentationContextResultCode.Acceptance, PresentationContextResultCode.Acceptance, PresentationContextResultCode.AbstractSyntaxNotSupported);
        Results(negotiator.Negotiate(SamplePdus.Request(called: "ECHOONLY")))
            .Should().Equal(PresentationContextResultCode.Acceptance, PresentationContextResultCode.AbstractSyntaxNotSupported, PresentationContextResultCode.AbstractSyntaxNotSupported);

        static IEnumerable<PresentationContextResultCode> Results(NegotiationResult result) => result.Accept!.PresentationContexts.Select(c => c.Result);
    }

    [Fact]
    public void Without_the_called_ae_check_an_unknown_title_gets_the_main_titles_settings()
    {
        var negotiator = new AssociationNegotiator(Policy() with
        {
            RequireKnownCalledAeTitle = false,
            AeTitles = [new CalledAePolicy("SEGNODE", ["PACS"], Syntaxes), new CalledAePolicy("SEGFIX", [], Syntaxes)],
        });

        negotiator.Negotiate(SamplePdus.Request(called: "ANY", calling: "PACS")).IsAccepted.Should().BeTrue();
        negotiator.Negotiate(SamplePdus.Request(called: "ANY", calling: "OTHER")).IsAccepted.Should().BeFalse("the main title allows only PACS");
    }

    [Fact]
    public void Storage_congestion_rejection_is_transient_from_the_presentation_provider_with_reason_1()
    {
        // PS3.8 table 9-21: source 3 (service-provider, presentation related function), reason 1 = temporary-congestion.
        AssociationNegotiator.TemporaryCongestion.Should().Be(new AAssociateRj(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, 1));
        ((byte)AssociateRejectResult.Transient).Should().Be(2);
        ((byte)AssociateRejectSource.ServiceProviderPresentation).Should().Be(3);
    }

    [Fact]
    public void Unsupported_application_context_is_rejected_with_reason_2()
    {
        var result = new AssociationNegotiator(Policy()).Negotiate(SamplePdus.Request() with { ApplicationContextName = "1.2.3" });
        result.Reject.Should().Be(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 2));
    }

    [Fact]
    public void Unsupported_protocol_version_is_rejected_by_the_acse_provider()
    {
        var result = new AssociationNegotiator(Policy()).Negotiate(SamplePdus.Request() with { ProtocolVersion = 2 });
        result.Reject.Should().Be(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceProviderAcse, 2));
    }

    [Fact]
    public void Limit_rejection_is_transient_local_limit_exceeded()
    {
        AssociationNegotiator.LimitExceeded.Should().Be(new AAssociateRj(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, 2));
    }
}
