using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

public class DimseMessageAssemblerTests
{
    private static readonly byte[] StoreCommand = DimseCommand.CreateStoreRequest(1, SamplePdus.MrStorage, "1.2.3").Encode();
    private static readonly byte[] EchoCommand = DimseCommand.CreateEchoRequest(2).Encode();

    private static DimseMessageAssembler Assembler() => new(id => id is 1 or 3);

    private static PresentationDataValue Command(byte[] bytes, byte context = 1, bool last = true) => new(context, true, last, bytes);

    private static PresentationDataValue Data(int length, byte context = 1, bool last = false) => new(context, false, last, new byte[length]);

    [Fact]
    public void Command_fragments_are_joined_and_data_passes_through()
    {
        var assembler = Assembler();
        assembler.Accept(Command(StoreCommand[..10], last: false)).Kind.Should().Be(AssemblerEventKind.None);
        var command = assembler.Accept(Command(StoreCommand[10..]));
        command.Kind.Should().Be(AssemblerEventKind.Command);
        command.Command!.CommandField.Should().Be(DimseCommandField.CStoreRequest);
        assembler.MessageInFlight.Should().BeTrue();

        var first = assembler.Accept(Data(100));
        first.Kind.Should().Be(AssemblerEventKind.Data);
        first.Data.Length.Should().Be(100);
        first.IsLast.Should().BeFalse();
        assembler.Accept(Data(50, last: true)).IsLast.Should().BeTrue();
        assembler.MessageInFlight.Should().BeFalse();
        assembler.DataBytesReceived.Should().Be(150);
    }

    [Fact]
    public void Command_without_dataset_completes_the_message()
    {
        var assembler = Assembler();
        assembler.Accept(Command(EchoCommand)).Command!.CommandField.Should().Be(DimseCommandField.CEchoRequest);
        assembler.MessageInFlight.Should().BeFalse();
    }

    [Fact]
    public void Pdv_on_a_context_that_was_not_accepted_is_a_protocol_error()
    {
        var act = () => Assembler().Accept(Command(EchoCommand, context: 5));
        act.Should().Throw<DicomFormatException>().WithMessage("*not accepted*");
    }

    [Fact]
    public void Data_before_any_command_is_a_protocol_error()
    {
        var act = () => Assembler().Accept(Data(10));
        act.Should().Throw<DicomFormatException>().WithMessage("*without a preceding command*");
    }

    [Fact]
    public void Data_before_the_last_command_fragment_is_a_protocol_error()
    {
        var assembler = Assembler();
        assembler.Accept(Command(StoreCommand[..10], last: false));
        var act = () => assembler.Accept(Data(10));
        act.Should().Throw<DicomFormatException>();
    }

    [Fact]
    public void A_new_command_while_a_dataset_is_incomplete_is_interleaving()
    {
        var assembler = Assembler();
        assembler.Accept(Command(StoreCommand));
        assembler.Accept(Data(10));
        var act = () => assembler.Accept(Command(EchoCommand));
        act.Should().Throw<DicomFormatException>().WithMessage("*interleaved*");
    }

    [Fact]
    public void Data_on_another_context_than_its_command_is_a_protocol_error()
    {
        var assembler = Assembler();
        assembler.Accept(Command(StoreCommand));
        var act = () => assembler.Accept(Data(10, context: 3));
        act.Should().Throw<DicomFormatException>();
    }

    [Fact]
    public void Command_fragments_switching_context_are_a_protocol_error()
    {
        var assembler = Assembler();
        assembler.Accept(Command(StoreCommand[..10], last: false));
        var act = () => assembler.Accept(Command(StoreCommand[10..], context: 3));
        act.Should().Throw<DicomFormatException>();
    }

    [Fact]
    public void Oversized_command_is_a_protocol_error()
    {
        var assembler = Assembler();
        var act = () =>
        {
            for (var i = 0; i < 100; i++)
            {
                assembler.Accept(Command(new byte[4096], last: false));
            }
        };
        act.Should().Throw<DicomFormatException>().WithMessage("*exceeds*");
    }
}
