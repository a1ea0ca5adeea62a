using System.Buffers.Binary;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

public class DimseCommandTests
{
    [Fact]
    public void Store_request_round_trips_with_group_length_first()
    {
        var command = DimseCommand.CreateStoreRequest(7, SamplePdus.MrStorage, "1.2.3.4.5", DimsePriority.High, "MOVER", 42);
        var bytes = command.Encode();

        // (0000,0000) UL, length 4, value = bytes after it; implicit VR (no VR characters).
        BinaryPrimitives.ReadUInt32LittleEndian(bytes).Should().Be(0);
        BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)).Should().Be(4);
        BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)).Should().Be((uint)(bytes.Length - 12));
        (bytes.Length % 2).Should().Be(0);

        var decoded = DimseCommand.Decode(bytes);
        decoded.CommandField.Should().Be(DimseCommandField.CStoreRequest);
        decoded.MessageId.Should().Be(7);
        decoded.AffectedSopClassUid.Should().Be(SamplePdus.MrStorage);
        decoded.AffectedSopInstanceUid.Should().Be("1.2.3.4.5");
        decoded.Priority.Should().Be(DimsePriority.High);
        decoded.HasDataSet.Should().BeTrue();
        decoded.MoveOriginatorAeTitle.Should().Be("MOVER");
        decoded.MoveOriginatorMessageId.Should().Be(42);
    }

    [Fact]
    public void Responses_carry_status_and_a_sanitised_error_comment()
    {
        var response = DimseCommand.CreateStoreResponse(7, SamplePdus.MrStorage, "1.2.3", DimseStatus.OutOfResources, "Disk\\full\n" + new string('x', 100));
        var decoded = DimseCommand.Decode(response.Encode());

        decoded.CommandField.Should().Be(DimseCommandField.CStoreResponse);
        decoded.IsResponse.Should().BeTrue();
        decoded.MessageIdBeingRespondedTo.Should().Be(7);
        decoded.Status.Should().Be(DimseStatus.OutOfResources);
        decoded.HasDataSet.Should().BeFalse();
        decoded.ErrorComment.Should().StartWith("Disk?full?").And.HaveLength(64);
    }

    [Fact]
    public void Echo_request_and_response()
    {
        var request = DimseCommand.Decode(DimseCommand.CreateEchoRequest(3).Encode());
        request.CommandField.Should().Be(DimseCommandField.CEchoRequest);
        request.HasDataSet.Should().BeFalse();
        request.AffectedSopClassUid.Should().Be(DicomUids.Verification);

        var response = DimseCommand.Decode(DimseCommand.CreateEchoResponse(3, 0).Encode());
        response.Status.Should().Be(0);
        response.ErrorComment.Should().BeNull();
    }

    [Fact]
    public void Elements_outside_group_0000_are_rejected()
    {
        var bytes = DimseCommand.CreateEchoRequest(1).Encode().Concat(new byte[] { 0x08, 0, 0x18, 0, 2, 0, 0, 0, (byte)'1', 0 }).ToArray();
        var act = () => DimseCommand.Decode(bytes, 100);
        act.Should().Throw<DicomFormatException>().WithMessage("*outside group 0000*");
    }

    [Fact]
    public void Missing_command_field_is_rejected()
    {
        var bytes = new byte[] { 0, 0, 0x10, 0x01, 2, 0, 0, 0, 1, 0 }; // only (0000,0110) Message ID
        var act = () => DimseCommand.Decode(bytes);
        act.Should().Throw<DicomFormatException>().WithMessage("*Command Field*");
    }

    [Fact]
    public void Truncated_command_is_rejected()
    {
        var bytes = DimseCommand.CreateEchoRequest(1).Encode();
        var act = () => DimseCommand.Decode(bytes.AsMemory(0, bytes.Length - 3));
        act.Should().Throw<DicomFormatException>();
    }
}
