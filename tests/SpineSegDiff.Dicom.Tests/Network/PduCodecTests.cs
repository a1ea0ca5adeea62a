using System.Text;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

public class PduCodecTests
{
    [Fact]
    public void Associate_request_round_trips_with_every_user_information_sub_item()
    {
        var request = SamplePdus.Request();
        var decoded = PduDecoder.Decode(PduEncoder.Encode(request), SamplePdus.Limits).Should().BeOfType<AAssociateRq>().Subject;

        decoded.CalledAeTitle.Should().Be("SEGNODE");
        decoded.CallingAeTitle.Should().Be("MODALITY");
        decoded.ApplicationContextName.Should().Be(DicomUids.ApplicationContext);
        decoded.ProtocolVersion.Should().Be(1);
        decoded.PresentationContexts.Should().BeEquivalentTo(request.PresentationContexts, o => o.WithStrictOrdering());
        decoded.UserInformation.Should().BeEquivalentTo(request.UserInformation);
    }

    [Fact]
    public void Associate_accept_round_trips_and_keeps_results_and_transfer_syntaxes()
    {
        var accept = SamplePdus.Accept();
        var decoded = PduDecoder.Decode(PduEncoder.Encode(accept), SamplePdus.Limits).Should().BeOfType<AAssociateAc>().Subject;

        decoded.PresentationContexts.Should().BeEquivalentTo(accept.PresentationContexts, o => o.WithStrictOrdering());
        decoded.UserInformation.MaxPduLength.Should().Be(262144);
        decoded.UserInformation.ImplementationVersionName.Should().Be("SPINESEG_010");
    }

    [Theory]
    [InlineData(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CalledAeTitleNotRecognized)]
    [InlineData(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CallingAeTitleNotRecognized)]
    [InlineData(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, AssociateRejectReason.LocalLimitExceeded)]
    public void Associate_reject_round_trips(AssociateRejectResult result, AssociateRejectSource source, byte reason)
    {
        var bytes = PduEncoder.Encode(new AAssociateRj(result, source, reason));
        bytes.Should().Equal(3, 0, 0, 0, 0, 4, 0, (byte)result, (byte)source, reason);
        PduDecoder.Decode(bytes, SamplePdus.Limits).Should().Be(new AAssociateRj(result, source, reason));
    }

    [Fact]
    public void Release_and_abort_round_trip()
    {
        PduDecoder.Decode(PduEncoder.Encode(new AReleaseRq()), SamplePdus.Limits).Should().BeOfType<AReleaseRq>();
        PduDecoder.Decode(PduEncoder.Encode(new AReleaseRp()), SamplePdus.Limits).Should().BeOfType<AReleaseRp>();
        var abort = new AAbort(AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue);
        PduEncoder.Encode(abort).Should().Equal(7, 0, 0, 0, 0, 4, 0, 0, 2, 6);
        PduDecoder.Decode(PduEncoder.Encode(abort), SamplePdus.Limits).Should().Be(abort);
    }

    [Fact]
    public void P_data_round_trips_with_message_control_headers()
    {
        var data = SamplePdus.Data();
        var bytes = PduEncoder.Encode(data);
        // First PDV item: length 8 (id + header + 6 data bytes), context 1, control 0x03 (command, last).
        bytes.AsSpan(6, 6).ToArray().Should().Equal(0, 0, 0, 8, 1, 3);
        var decoded = PduDecoder.Decode(bytes, SamplePdus.Limits).Should().BeOfType<PDataTf>().Subject;
        decoded.Values.Should().HaveCount(2);
        decoded.Values[0].IsCommand.Should().BeTrue();
        decoded.Values[0].IsLastFragment.Should().BeTrue();
        decoded.Values[0].Data.ToArray().Should().Equal(data.Values[0].Data.ToArray());
        decoded.Values[1].IsCommand.Should().BeFalse();
        decoded.Values[1].IsLastFragment.Should().BeFalse();
        decoded.Values[1].Data.ToArray().Should().Equal(data.Values[1].Data.ToArray());
        decoded.Values[1].StreamOffset.Should().Be(6 + 4 + 8);
    }

    [Fact]
    public void Unknown_user_information_sub_items_and_unknown_items_are_skipped()
    {
        var encoded = PduEncoder.Encode(SamplePdus.Request());
        // Insert a user identity sub-item (0x58) and an unknown top-level item (0x77) before the user information item.
        var userIdentity = SamplePdus.Item(0x58, [1, 0, 0, 4, (byte)'u', (byte)'s', (byte)'e', (byte)'r', 0, 0]);
        var body = encoded.AsSpan(6).ToArray();
        var userInfoAt = IndexOfItem(body, 0x50);
        var userInfo = body[userInfoAt..];
        var newUserInfo = SamplePdus.Item(0x50, SamplePdus.Concat(userInfo[4..], userIdentity));
        var newBody = SamplePdus.Concat(body[..userInfoAt], SamplePdus.Item(0x77, [9, 9, 9]), newUserInfo);
        var pdu = SamplePdus.Concat(SamplePdus.Header(1, (uint)newBody.Length), newBody);

        var decoded = (AAssociateRq)PduDecoder.Decode(pdu, SamplePdus.Limits);

        decoded.UserInformation.Should().BeEquivalentTo(SamplePdus.Request().UserInformation);
        decoded.PresentationContexts.Should().HaveCount(3);
    }

    [Fact]
    public void Ae_titles_and_uids_are_trimmed_of_padding()
    {
        var bytes = PduEncoder.Encode(SamplePdus.Request(called: "  NODE", calling: "A"));
        var decoded = (AAssociateRq)PduDecoder.Decode(bytes, SamplePdus.Limits);
        decoded.CalledAeTitle.Should().Be("NODE");
        decoded.CallingAeTitle.Should().Be("A");
    }

    [Fact]
    public void Encoder_refuses_an_ae_title_that_does_not_fit()
    {
        var act = () => PduEncoder.Encode(SamplePdus.Request(called: new string('A', 17)));
        act.Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData((byte)0x00)]
    [InlineData((byte)0x08)]
    [InlineData((byte)0xFF)]
    public void Unknown_pdu_type_is_rejected(byte type)
    {
        var act = () => PduDecoder.Decode(SamplePdus.Concat(SamplePdus.Header(type, 4), [0, 0, 0, 0]), SamplePdus.Limits);
        act.Should().Throw<DicomFormatException>().WithMessage("*Unrecognized PDU type*").Which.Offset.Should().Be(0);
    }

    [Fact]
    public void P_data_longer_than_the_negotiated_maximum_is_rejected_from_the_header_alone()
    {
        var act = () => PduDecoder.ReadHeader(SamplePdus.Header(4, 262145), SamplePdus.Limits, offset: 1000);
        act.Should().Throw<DicomFormatException>().WithMessage("*exceeds the negotiated maximum*").Which.Offset.Should().Be(1002);
        PduDecoder.ReadHeader(SamplePdus.Header(4, 262144), SamplePdus.Limits).Length.Should().Be(262144);
    }

    [Fact]
    public void Associate_request_over_the_absolute_cap_is_rejected()
    {
        var act = () => PduDecoder.ReadHeader(SamplePdus.Header(1, PduLimits.DefaultMaxAssociateLength + 1), SamplePdus.Limits);
        act.Should().Throw<DicomFormatException>().WithMessage("*exceeds the limit*");
    }

    [Theory]
    [InlineData((byte)3, 5u)]
    [InlineData((byte)5, 0u)]
    [InlineData((byte)6, 8u)]
    [InlineData((byte)7, 3u)]
    [InlineData((byte)1, 10u)]
    [InlineData((byte)4, 2u)]
    public void Implausible_declared_lengths_are_rejected(byte type, uint length)
    {
        var act = () => PduDecoder.ReadHeader(SamplePdus.Header(type, length), SamplePdus.Limits);
        act.Should().Throw<DicomFormatException>();
    }

    [Fact]
    public void Truncated_and_overlong_bodies_are_rejected()
    {
        foreach (var pdu in SamplePdus.All())
        {
            var bytes = PduEncoder.Encode(pdu);
            for (var cut = 0; cut < bytes.Length; cut++)
            {
                var act = () => PduDecoder.Decode(bytes.AsMemory(0, cut), SamplePdus.Limits);
                act.Should().Throw<DicomFormatException>($"{pdu.Type} cut at {cut} of {bytes.Length}");
            }
            var longer = () => PduDecoder.Decode(SamplePdus.Concat(bytes, [0]), SamplePdus.Limits);
            longer.Should().Throw<DicomFormatException>().WithMessage("*beyond its declared length*");
        }
    }

    [Fact]
    public void Items_whose_length_overruns_the_pdu_are_rejected()
    {
        var bytes = PduEncoder.Encode(SamplePdus.Request());
        var first = 6 + 68; // application context item
        bytes[first + 2] = 0xFF;
        bytes[first + 3] = 0xFF;
        var act = () => PduDecoder.Decode(bytes, SamplePdus.Limits);
        act.Should().Throw<DicomFormatException>().WithMessage("*exceeds*").Which.Offset.Should().Be(first + 2);
    }

    [Fact]
    public void Structural_errors_in_an_associate_request_are_rejected()
    {
        var fixedFields = new byte[68];
        fixedFields[1] = 1;
        Encoding.ASCII.GetBytes("SEGNODE         CALLER          ", fixedFields.AsSpan(4));
        var appContext = SamplePdus.Item(0x10, Encoding.ASCII.GetBytes(DicomUids.ApplicationContext));
        var abstractSyntax = SamplePdus.Item(0x30, Encoding.ASCII.GetBytes(SamplePdus.MrStorage));
        var transferSyntax = SamplePdus.Item(0x40, Encoding.ASCII.GetBytes(SamplePdus.Implicit));
        byte[] Context(params byte[][] subItems) => SamplePdus.Item(0x20, SamplePdus.Concat([1, 0, 0, 0], SamplePdus.Concat(subItems)));
        byte[] Pdu(params byte[][] items)
        {
            var body = SamplePdus.Concat([fixedFields, .. items]);
            return SamplePdus.Concat(SamplePdus.Header(1, (uint)body.Length), body);
        }

        PduDecoder.Decode(Pdu(appContext, Context(abstractSyntax, transferSyntax)), SamplePdus.Limits).Should().BeOfType<AAssociateRq>();
        var cases = new Dictionary<string, byte[]>
        {
            ["no application context"] = Pdu(Context(abstractSyntax, transferSyntax)),
            ["two application contexts"] = Pdu(appContext, appContext, Context(abstractSyntax, transferSyntax)),
            ["no presentation context"] = Pdu(appContext),
            ["no abstract syntax"] = Pdu(appContext, Context(transferSyntax)),
            ["two abstract syntaxes"] = Pdu(appContext, Context(abstractSyntax, abstractSyntax, transferSyntax)),
            ["no transfer syntax"] = Pdu(appContext, Context(abstractSyntax)),
            ["empty transfer syntax"] = Pdu(appContext, Context(abstractSyntax, SamplePdus.Item(0x40, []))),
            ["uid longer than 64"] = Pdu(appContext, Context(SamplePdus.Item(0x30, new byte[70]), transferSyntax)),
            ["bad max length sub-item"] = Pdu(appContext, Context(abstractSyntax, transferSyntax), SamplePdus.Item(0x50, SamplePdus.Item(0x51, [0, 1]))),
            ["role selection overrun"] = Pdu(appContext, Context(abstractSyntax, transferSyntax), SamplePdus.Item(0x50, SamplePdus.Item(0x54, [0, 50, 49, 1, 0]))),
            ["item header cut"] = Pdu(appContext, Context(abstractSyntax, transferSyntax), [0x50, 0]),
        };
        foreach (var (name, bytes) in cases)
        {
            var act = () => PduDecoder.Decode(bytes, SamplePdus.Limits);
            act.Should().Throw<DicomFormatException>(name);
        }
    }

    [Fact]
    public void Malformed_p_data_items_are_rejected()
    {
        byte[] PData(params byte[] body) => SamplePdus.Concat(SamplePdus.Header(4, (uint)body.Length), body);
        var cases = new Dictionary<string, byte[]>
        {
            ["item length 1"] = PData(0, 0, 0, 1, 1, 3),
            ["item length beyond the pdu"] = PData(0, 0, 0, 9, 1, 3, 0, 0),
            ["trailing bytes that cannot hold an item length"] = PData(0, 0, 0, 2, 1, 3, 0, 0),
            ["reserved control bits"] = PData(0, 0, 0, 2, 1, 0x83),
        };
        foreach (var (name, bytes) in cases)
        {
            var act = () => PduDecoder.Decode(bytes, SamplePdus.Limits);
            act.Should().Throw<DicomFormatException>(name);
        }
    }

    [Fact]
    public void Reject_with_an_undefined_result_or_source_is_rejected()
    {
        var act = () => PduDecoder.Decode(new byte[] { 3, 0, 0, 0, 0, 4, 0, 9, 1, 1 }, SamplePdus.Limits);
        act.Should().Throw<DicomFormatException>();
        act = () => PduDecoder.Decode(new byte[] { 3, 0, 0, 0, 0, 4, 0, 1, 0, 1 }, SamplePdus.Limits);
        act.Should().Throw<DicomFormatException>();
    }

    private static int IndexOfItem(byte[] body, byte type)
    {
        var at = 68;
        while (body[at] != type)
        {
            at += 4 + ((body[at + 2] << 8) | body[at + 3]);
        }
        return at;
    }
}
