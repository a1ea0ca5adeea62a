using Microsoft.Extensions.Logging;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Network;

/// <summary>Our SCP against dcmtk's SCUs, and our SCUs against dcmtk's storescp: real peers, no mocks.</summary>
public sealed class DcmtkInteropTests(ITestOutputHelper output)
{
    private const int TestTimeout = 120_000;
    private static readonly DicomTag PixelData = new(0x7FE0, 0x0010);
    private static readonly DicomTag SopInstanceUid = new(0x0008, 0x0018);

    [Fact(Timeout = TestTimeout)]
    public async Task Echoscu_gets_success_from_our_server()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output);

        var result = await Tools.EchoscuAsync(server.LocalEndPoint.Port, "SEGNODE", extraArguments: ["-v"]);

        output.WriteLine(result.ToString());
        result.ExitCode.Should().Be(0);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Echoscu_to_an_unknown_called_ae_title_is_rejected()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output);

        var result = await Tools.EchoscuAsync(server.LocalEndPoint.Port, "NOTUS", extraArguments: ["-v"]);

        output.WriteLine(result.ToString());
        result.ExitCode.Should().NotBe(0);
        result.Output.Should().ContainEquivalentOf("Called AE Title Not Recognized");
        server.ActiveAssociations.Should().Be(0);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(new string[0], "1.2.840.10008.1.2.1")]
    [InlineData(new[] { "-xi" }, "1.2.840.10008.1.2")]
    [InlineData(new[] { "-xe" }, "1.2.840.10008.1.2.1")]
    [InlineData(new[] { "-R" }, "1.2.840.10008.1.2.1")]
    [InlineData(new[] { "-R", "-xi" }, "1.2.840.10008.1.2")]
    public async Task Storescu_series_lands_in_the_instance_store(string[] storescuArguments, string expectedSyntax)
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Combine("series"), count: 6, rows: 64, cols: 48);
        using var loggers = new TestOutputLoggerFactory(output);
        var store = new InstanceStore(new InstanceStoreOptions { RootDirectory = temp.Combine("store") }, loggers.CreateLogger<InstanceStore>());
        var ended = new TaskCompletionSource<AssociationEndedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServers.StartAsync(store, output);
        server.AssociationEnded += (_, e) => ended.TrySetResult(e);

        var result = await Tools.StorescuAsync(server.LocalEndPoint.Port, "SEGNODE", manifest.Files.Select(f => f.Path), extraArguments: ["-v", .. storescuArguments]);

        output.WriteLine(result.ToString());
        result.ExitCode.Should().Be(0);
        var summary = await ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        summary.Reason.Should().Be(AssociationEndReason.Released);
        summary.InstancesStored.Should().Be(6);
        summary.CallingAeTitle.Should().Be("STORESCU");
        var stored = store.EnumerateInstanceFiles().ToList();
        stored.Should().HaveCount(6);
        Directory.EnumerateFiles(store.IncomingDirectory).Should().BeEmpty();
        foreach (var path in stored)
        {
            var file = DicomFile.Open(path);
            file.TransferSyntax.Uid.Should().Be(expectedSyntax);
            var uid = file.Dataset.GetString(SopInstanceUid);
            var source = DicomFile.Open(manifest.Files.Single(f => f.SopInstanceUid == uid).Path);
            file.Dataset.GetBytes(PixelData).ToArray().Should().Equal(source.Dataset.GetBytes(PixelData).ToArray());
            (await Tools.DcmdumpAsync(path)).ExitCode.Should().Be(0);
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Our_echo_scu_gets_success_from_storescp()
    {
        await using var scp = await DcmtkStoreScp.StartAsync("STORESCP");
        var echo = new EchoScu(new DicomClientOptions { CalledAeTitle = scp.AeTitle, Host = scp.Host, Port = scp.Port }, new TestOutputLoggerFactory(output));

        var status = await echo.EchoAsync(CancellationToken.None);

        status.Should().Be(DimseStatus.Success);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Our_storage_scu_streams_a_series_to_storescp_unchanged()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Path, count: 8, rows: 128, cols: 96);
        await using var scp = await DcmtkStoreScp.StartAsync("STORESCP", new StoreScpOptions { MaxPdu = 4096 });
        var scu = new StorageScu(new DicomClientOptions { CalledAeTitle = scp.AeTitle, Host = scp.Host, Port = scp.Port }, new TestOutputLoggerFactory(output));

        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), CancellationToken.None);

        results.Should().OnlyContain(r => r.Succeeded, string.Join("\n", results));
        var received = await scp.WaitForFilesAsync(8, TimeSpan.FromSeconds(20));
        foreach (var path in received)
        {
            var file = DicomFile.Open(path);
            var source = DicomFile.Open(manifest.Files.Single(f => f.SopInstanceUid == file.Dataset.GetString(SopInstanceUid)).Path);
            file.TransferSyntax.Should().Be(DicomTransferSyntax.ExplicitVRLittleEndian);
            file.Dataset.FirstDifference(source.Dataset).Should().BeNull();
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Our_storage_scu_sends_the_varied_corpus_to_storescp_in_each_files_own_syntax()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateCorpusAsync(temp.Path);
        await using var scp = await DcmtkStoreScp.StartAsync("STORESCP", new StoreScpOptions { UniqueFileNames = true });
        var scu = new StorageScu(new DicomClientOptions { CalledAeTitle = scp.AeTitle, Host = scp.Host, Port = scp.Port }, new TestOutputLoggerFactory(output));

        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), CancellationToken.None);

        output.WriteLine(scp.Output);
        results.Should().OnlyContain(r => r.Succeeded, string.Join("\n", results));
        var received = await scp.WaitForFilesAsync(manifest.Files.Count, TimeSpan.FromSeconds(20));
        foreach (var path in received)
        {
            using var stream = File.OpenRead(path);
            var meta = DicomFile.ReadMeta(stream, DicomReadOptions.Default, out _);
            var uid = meta.GetString(new DicomTag(0x0002, 0x0003));
            var source = manifest.Files.Single(f => f.SopInstanceUid == uid);
            meta.GetString(new DicomTag(0x0002, 0x0010)).Should().Be(source.TransferSyntaxUid, "storescp +xa accepts every syntax, so nothing needs converting");
            (await Tools.DcmdumpAsync(path)).ExitCode.Should().Be(0);
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Our_storage_scu_reencodes_when_the_peer_takes_implicit_vr_only()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateCorpusAsync(temp.Path);
        await using var scp = await DcmtkStoreScp.StartAsync("STORESCP", new StoreScpOptions { AcceptAllTransferSyntaxes = false, UniqueFileNames = true, ExtraArguments = ["+xi"] });
        var scu = new StorageScu(new DicomClientOptions { CalledAeTitle = scp.AeTitle, Host = scp.Host, Port = scp.Port }, new TestOutputLoggerFactory(output));

        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), CancellationToken.None);

        results.Should().OnlyContain(r => r.Succeeded, string.Join("\n", results));
        var received = await scp.WaitForFilesAsync(manifest.Files.Count, TimeSpan.FromSeconds(20));
        foreach (var path in received)
        {
            var file = DicomFile.Open(path);
            file.TransferSyntax.Should().Be(DicomTransferSyntax.ImplicitVRLittleEndian);
            var source = DicomFile.Open(manifest.Files.Single(f => f.SopInstanceUid == file.Dataset.GetString(SopInstanceUid)).Path);
            file.Dataset.GetBytes(PixelData).ToArray().Should().Equal(source.Dataset.GetBytes(PixelData).ToArray());
            (await Tools.DcmdumpAsync(path)).ExitCode.Should().Be(0);
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Files_that_cannot_be_sent_are_reported_one_by_one_while_the_rest_go()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Combine("series"), count: 3, rows: 16, cols: 16);
        var garbage = temp.Combine("garbage.dcm");
        await File.WriteAllBytesAsync(garbage, new byte[300]);
        var missing = temp.Combine("missing.dcm");
        await using var scp = await DcmtkStoreScp.StartAsync("STORESCP");
        var scu = new StorageScu(new DicomClientOptions { CalledAeTitle = scp.AeTitle, Host = scp.Host, Port = scp.Port }, new TestOutputLoggerFactory(output));
        var paths = new[] { garbage, manifest.Files[0].Path, missing, manifest.Files[1].Path, manifest.Files[2].Path };

        var results = await scu.SendAsync(paths, CancellationToken.None);

        results.Select(r => r.Path).Should().Equal(paths);
        results.Select(r => r.Succeeded).Should().Equal(false, true, false, true, true);
        results[0].Error.Should().Contain("Unreadable");
        results[2].Error.Should().Contain("Unreadable");
        results[1].SopInstanceUid.Should().Be(manifest.Files[0].SopInstanceUid);
        results[1].Status.Should().Be(DimseStatus.Success);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task An_unreachable_peer_is_reported_for_every_file()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Path, count: 2, rows: 16, cols: 16);
        var scu = new StorageScu(new DicomClientOptions { CalledAeTitle = "NOBODY", Host = Tools.Loopback, Port = FreePort.Get() }, new TestOutputLoggerFactory(output));

        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), CancellationToken.None);

        results.Should().HaveCount(2).And.OnlyContain(r => !r.Succeeded && r.Status == null && r.Error!.Contains("Cannot connect"));
    }
}
