using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

public class PDataFragmentationTests
{
    [Theory]
    [InlineData(16384u, 262144, 16378)]
    [InlineData(16385u, 262144, 16378)] // odd maximum: rounded down to an even fragment
    [InlineData(16387u, 262144, 16380)]
    [InlineData(0u, 65536, 65530)]      // peer says unlimited: our own cap applies
    [InlineData(1048576u, 65536, 65530)]
    public void Fragment_size_fits_the_peer_maximum_and_is_even(uint peerMax, int ownLimit, int expected)
    {
        var size = PdvFragmenter.MaxPdvDataLength(peerMax, ownLimit);
        size.Should().Be(expected);
        (size % 2).Should().Be(0);
    }

    [Fact]
    public void Too_small_a_peer_maximum_is_refused()
    {
        var act = () => PdvFragmenter.MaxPdvDataLength(20, 65536);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Fragments_cover_the_data_in_even_pieces_with_only_the_last_marked()
    {
        var fragments = PdvFragmenter.Fragments(100_002, 16378).ToList();
        fragments.Sum(f => (long)f.Length).Should().Be(100_002);
        fragments.Should().OnlyContain(f => f.Length % 2 == 0 && f.Length <= 16378);
        fragments.Select(f => f.IsLast).Should().Equal(fragments.Select((_, i) => i == fragments.Count - 1));
        PdvFragmenter.Fragments(0, 16378).Should().ContainSingle().Which.IsLast.Should().BeTrue();
    }

    [Theory]
    [InlineData(4096u, 100_000)]
    [InlineData(16384u, 16378)]
    [InlineData(16384u, 16380)]
    [InlineData(65u, 1_000)]
    public async Task Sender_writes_pdus_within_the_peer_maximum_with_even_pdvs_and_commands_apart(uint peerMax, int datasetLength)
    {
        var output = new MemoryStream();
        var sender = new DimseMessageSender(new PduWriter(output), PdvFragmenter.MaxPdvDataLength(peerMax, 262144));
        var command = DimseCommand.CreateStoreRequest(1, SamplePdus.MrStorage, "1.2.3");
        var dataset = Enumerable.Range(0, datasetLength).Select(i => (byte)i).ToArray();

        await sender.SendCommandAsync(1, command, CancellationToken.None);
        await sender.SendDatasetAsync(1, new MemoryStream(dataset), dataset.Length, CancellationToken.None);

        output.Position = 0;
        var reader = new PduReader(output, new PduLimits(peerMax));
        var pdvs = new List<PresentationDataValue>();
        while (await reader.ReadAsync(CancellationToken.None) is PDataTf pdu)
        {
            pdu.Values.Should().ContainSingle();
            var pdv = pdu.Values[0];
            pdvs.Add(pdv with { Data = pdv.Data.ToArray() });
        }
        pdvs.Should().OnlyContain(p => p.Data.Length % 2 == 0, "odd fragments make some SCPs abort (fo-dicom #284)");
        var commandPdvs = pdvs.TakeWhile(p => p.IsCommand).ToList();
        commandPdvs.Should().NotBeEmpty();
        commandPdvs.Last().IsLastFragment.Should().BeTrue();
        commandPdvs.SelectMany(p => p.Data.ToArray()).Should().Equal(command.Encode());
        var dataPdvs = pdvs.Skip(commandPdvs.Count).ToList();
        dataPdvs.Should().OnlyContain(p => !p.IsCommand);
        dataPdvs.Select(p => p.IsLastFragment).Should().Equal(dataPdvs.Select((_, i) => i == dataPdvs.Count - 1));
        dataPdvs.SelectMany(p => p.Data.ToArray()).Should().Equal(dataset);
    }

    [Fact]
    public async Task Odd_length_dataset_is_refused_rather_than_sent_in_an_odd_fragment()
    {
        var sender = new DimseMessageSender(new PduWriter(new MemoryStream()), 1000);
        var act = async () => await sender.SendDatasetAsync(1, new byte[11], CancellationToken.None);
        await act.Should().ThrowAsync<ArgumentException>();
    }
}
