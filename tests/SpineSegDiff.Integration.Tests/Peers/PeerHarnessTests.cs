using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>
/// Proves the harness against real peers only (pydicom, dcmtk, dicom3tools, Orthanc); nothing
/// from SpineSegDiff.Dicom is involved, so a failure here is a harness or environment problem.
/// </summary>
public sealed class PeerHarnessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Corpus_is_written_by_pydicom_and_every_file_parses_with_dcmtk()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var temp = new TempDirectory("spineseg-corpus");

        var manifest = await FixtureGenerator.CreateCorpusAsync(temp.Path, cts.Token);

        manifest.Files.Should().HaveCountGreaterThanOrEqualTo(9);
        manifest.Files.Select(f => f.TransferSyntaxUid).Should().Contain(
        [
            "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
        ]);
        manifest.Files.Select(f => f.SpecificCharacterSet).Should().Contain(["ISO_IR 192", "ISO_IR 100", null]);
        manifest.Files.Should().Contain(f => f.Has("nested-sequences") && f.Has("private-tags") && f.Has("odd-length-values"));
        manifest.Files.Should().OnlyContain(f => f.SopClassUid == "1.2.840.10008.5.1.4.1.1.4" && f.WrittenBy.StartsWith("pydicom", StringComparison.Ordinal));

        foreach (var file in manifest.Files)
        {
            // +U8: print text as UTF-8 so the decoded names can be compared below.
            var dump = await Tools.DcmdumpAsync(file.Path, cts.Token, "+U8");
            dump.ExitCode.Should().Be(0, dump.ToString());
            dump.StandardError.Should().BeEmpty(dump.ToString());
            dump.StandardOutput.Should().Contain(file.SopInstanceUid);
            dump.StandardOutput.Should().Contain($"[{file.PatientName}]", "dcmtk decodes the {0} name", file.SpecificCharacterSet);
        }

        var nested = manifest.Single("mr_explicit_le_nested_private.dcm");
        var nestedDump = await Tools.DcmdumpAsync(nested.Path, cts.Token);
        nestedDump.StandardOutput.Should().Contain("(0029,0010) LO [SPINESEG TEST]")
            .And.Contain("(0029,1010) OB 01\\02\\03\\00")
            .And.Contain("PurposeOfReferenceCodeSequence")
            .And.Contain("(Sequence with undefined length #=2)");

        // dicom3tools as a second, independent opinion (it cannot read deflate, so skip that one).
        foreach (var file in manifest.Files.Where(f => !f.Has("deflated")))
        {
            var check = await Tools.DciodvfyAsync(file.Path, cts.Token);
            check.ExitCode.Should().Be(0, check.ToString());
            check.Output.Should().NotContain("Error", check.ToString());
        }
    }

    [Fact]
    public async Task Series_generation_is_fast_and_instances_are_distinct()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var temp = new TempDirectory("spineseg-series");
        var clock = Stopwatch.StartNew();

        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Path, 200, 256, 256, FixtureTransferSyntax.ImplicitVrLittleEndian, cancellationToken: cts.Token);

        output.WriteLine($"200 x 256x256 generated in {clock.ElapsedMilliseconds} ms");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15));
        manifest.Files.Should().HaveCount(200);
        manifest.Files.Select(f => f.SopInstanceUid).Should().OnlyHaveUniqueItems();
        manifest.Files.Select(f => f.StudyInstanceUid).Distinct().Should().ContainSingle();
        manifest.Files.Select(f => f.SeriesInstanceUid).Distinct().Should().ContainSingle();
        manifest.Files.Should().OnlyContain(f => f.TransferSyntaxUid == "1.2.840.10008.1.2" && File.Exists(f.Path));

        var first = await File.ReadAllBytesAsync(manifest.Files[0].Path, cts.Token);
        var second = await File.ReadAllBytesAsync(manifest.Files[1].Path, cts.Token);
        first.AsSpan(^(256 * 256 * 2)..).SequenceEqual(second.AsSpan(^(256 * 256 * 2)..)).Should().BeFalse("pixel data differs per instance");
    }

    [Fact]
    public async Task Storescu_delivers_a_series_to_dcmtk_storescp()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var temp = new TempDirectory("spineseg-series");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Path, 20, 64, 64, cancellationToken: cts.Token);

        await using var scp = await DcmtkStoreScp.StartAsync("PEERSCP", cancellationToken: cts.Token);

        var echo = await Tools.EchoscuAsync(scp.Port, scp.AeTitle, cancellationToken: cts.Token);
        echo.ExitCode.Should().Be(0, echo.ToString());

        var clock = Stopwatch.StartNew();
        var store = await Tools.StorescuAsync(scp.Port, scp.AeTitle, manifest.Files.Select(f => f.Path), cancellationToken: cts.Token);
        output.WriteLine($"storescu 20 files: {clock.ElapsedMilliseconds} ms");
        store.ExitCode.Should().Be(0, store.ToString());

        var received = scp.ReceivedFiles();
        received.Should().HaveCount(20, scp.Output);
        received.Select(Path.GetFileName).Should().BeEquivalentTo(manifest.Files.Select(f => "MR." + f.SopInstanceUid));
    }

    [Fact]
    public async Task Corpus_round_trips_through_dcmsend_and_storescp()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var temp = new TempDirectory("spineseg-corpus");
        var manifest = await FixtureGenerator.CreateCorpusAsync(temp.Path, cts.Token);
        await using var scp = await DcmtkStoreScp.StartAsync(cancellationToken: cts.Token);

        var send = await Tools.DcmsendAsync(scp.Port, scp.AeTitle, manifest.Files.Select(f => f.Path), cancellationToken: cts.Token);

        send.ExitCode.Should().Be(0, send.ToString());
        scp.ReceivedFiles().Should().HaveCount(manifest.Files.Count, scp.Output);
    }

    [Fact]
    public async Task Orthanc_accepts_storescu_and_serves_instances_over_rest()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var temp = new TempDirectory("spineseg-series");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Path, 5, 64, 64, seed: 7, cancellationToken: cts.Token);

        var clock = Stopwatch.StartNew();
        await using var orthanc = await OrthancServer.StartAsync(cancellationToken: cts.Token);
        output.WriteLine($"Orthanc ready in {clock.ElapsedMilliseconds} ms (DICOM {orthanc.DicomPort}, HTTP {orthanc.HttpPort})");

        var echo = await Tools.EchoscuAsync(orthanc.DicomPort, "ORTHANC", cancellationToken: cts.Token);
        echo.ExitCode.Should().Be(0, echo.ToString());

        var store = await Tools.StorescuAsync(orthanc.DicomPort, "ORTHANC", manifest.Files.Select(f => f.Path), cancellationToken: cts.Token);
        store.ExitCode.Should().Be(0, store.ToString());

        (await orthanc.CountInstancesAsync(cts.Token)).Should().Be(5, orthanc.Output);
        var ids = await orthanc.ListInstancesAsync(cts.Token);
        ids.Should().HaveCount(5);

        var found = await orthanc.FindAsync("Series", new Dictionary<string, string> { ["SeriesInstanceUID"] = manifest.Files[0].SeriesInstanceUid }, cts.Token);
        found.Should().ContainSingle();

        var tags = await orthanc.GetInstanceTagsAsync(ids[0], cts.Token);
        tags.GetProperty("SeriesDescription").GetString().Should().Be("SAG T2 TSE");
        manifest.Files.Select(f => f.SopInstanceUid).Should().Contain(tags.GetProperty("SOPInstanceUID").GetString());

        var bytes = await orthanc.GetInstanceFileAsync(ids[0], cts.Token);
        var downloaded = Path.Combine(temp.Path, "from-orthanc.dcm");
        await File.WriteAllBytesAsync(downloaded, bytes, cts.Token);
        var dump = await Tools.DcmdumpAsync(downloaded, cts.Token);
        dump.ExitCode.Should().Be(0, dump.ToString());
        dump.StandardOutput.Should().Contain(tags.GetProperty("SOPInstanceUID").GetString()!);

        using var qido = await orthanc.Http.GetAsync(new Uri(orthanc.DicomWebUri, "studies"), cts.Token);
        qido.IsSuccessStatusCode.Should().BeTrue("the DICOMweb plugin is loaded:\n{0}", orthanc.Output);
    }

    [Fact]
    public async Task Orthanc_stores_to_a_dcmtk_storescp_modality()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var temp = new TempDirectory("spineseg-corpus");
        var manifest = await FixtureGenerator.CreateCorpusAsync(temp.Path, cts.Token);
        await using var scp = await DcmtkStoreScp.StartAsync("DCMTKSCP", cancellationToken: cts.Token);
        await using var orthanc = await OrthancServer.StartAsync(
            new OrthancOptions { Modalities = new Dictionary<string, OrthancModality> { ["dcmtk"] = new(scp.AeTitle, scp.Port) } },
            cts.Token);

        foreach (var file in manifest.Files)
        {
            var uploaded = await orthanc.UploadInstanceAsync(await File.ReadAllBytesAsync(file.Path, cts.Token), cts.Token);
            uploaded.GetProperty("Status").GetString().Should().Be("Success");
        }

        (await orthanc.EchoModalityAsync("dcmtk", cts.Token)).Should().BeTrue(scp.Output);
        var ids = await orthanc.ListInstancesAsync(cts.Token);
        var clock = Stopwatch.StartNew();
        await orthanc.StoreToModalityAsync("dcmtk", ids, cts.Token);
        output.WriteLine($"Orthanc C-STORE of {ids.Count} corpus files to storescp: {clock.ElapsedMilliseconds} ms");

        scp.ReceivedFiles().Should().HaveCount(manifest.Files.Count, scp.Output);

        // How Orthanc decodes the non-ASCII names is recorded here because our own node is compared against it.
        foreach (var id in ids)
        {
            var tags = await orthanc.GetInstanceTagsAsync(id, cts.Token);
            var sop = tags.GetProperty("SOPInstanceUID").GetString();
            var expected = manifest.Files.Single(f => f.SopInstanceUid == sop);
            tags.GetProperty("PatientName").GetString().Should().Be(expected.PatientName, expected.FileName);
        }
    }

    [Fact]
    public async Task Disposing_peers_kills_their_processes_and_deletes_their_directories()
    {
        using var cts = new CancellationTokenSource(Timeout);
        int scpPid, orthancPid;
        string scpDirectory, orthancConfig;
        await using (var scp = await DcmtkStoreScp.StartAsync(cancellationToken: cts.Token))
        await using (var orthanc = await OrthancServer.StartAsync(new OrthancOptions { EnableDicomWeb = false }, cts.Token))
        {
            (scpPid, orthancPid) = (scp.ProcessId, orthanc.ProcessId);
            (scpDirectory, orthancConfig) = (scp.OutputDirectory, orthanc.ConfigurationPath);
            IsAlive(scpPid).Should().BeTrue();
            IsAlive(orthancPid).Should().BeTrue();
        }

        IsAlive(scpPid).Should().BeFalse();
        IsAlive(orthancPid).Should().BeFalse();
        Directory.Exists(scpDirectory).Should().BeFalse();
        File.Exists(orthancConfig).Should().BeFalse();
    }

    [Fact]
    public async Task A_hung_tool_is_killed_at_its_timeout_with_its_output_reported()
    {
        var script = "import sys, time; print('started', flush=True); time.sleep(60)";
        var clock = Stopwatch.StartNew();

        var act = () => ExternalProcess.RunAsync(Tools.SystemPython, ["-c", script], TimeSpan.FromMilliseconds(700));

        (await act.Should().ThrowAsync<TimeoutException>()).Which.Message.Should().Contain("started");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        Directory.EnumerateDirectories("/proc")
            .Select(d => Path.Combine(d, "cmdline"))
            .Where(File.Exists)
            .Select(f => { try { return File.ReadAllText(f); } catch (IOException) { return string.Empty; } })
            .Should().NotContain(c => c.Contains(script, StringComparison.Ordinal));
    }

    [Fact(Timeout = 240_000)]
    public async Task RabbitMq_broker_restarts_on_its_ports_with_its_durable_messages_and_leaves_nothing_behind()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var clock = Stopwatch.StartNew();
        int serverPid, epmdPid;
        string dataDirectory;
        await using (var broker = await RabbitMqBroker.StartAsync(cancellationToken: cts.Token))
        {
            output.WriteLine($"RabbitMQ {broker.NodeName} ready in {clock.ElapsedMilliseconds} ms (AMQP {broker.AmqpPort}, distribution {broker.DistributionPort}, epmd {broker.EpmdPort})");
            (serverPid, epmdPid, dataDirectory) = (broker.ProcessId!.Value, broker.EpmdProcessId, broker.DataDirectory);
            var factory = new RabbitMQ.Client.ConnectionFactory
            {
                HostName = broker.Host, Port = broker.AmqpPort, UserName = RabbitMqBroker.Username, Password = RabbitMqBroker.Password,
            };
            await using (var connection = await factory.CreateConnectionAsync(cts.Token))
            await using (var channel = await connection.CreateChannelAsync(cancellationToken: cts.Token))
            {
                await channel.QueueDeclareAsync("harness-durable", durable: true, exclusive: false, autoDelete: false, cancellationToken: cts.Token);
                await channel.BasicPublishAsync(
                    string.Empty, "harness-durable", mandatory: false, new RabbitMQ.Client.BasicProperties { Persistent = true }, "kept"u8.ToArray(), cts.Token);
            }
            (await broker.QueuesAsync(cts.Token)).Should().ContainKey("harness-durable").WhoseValue.Messages.Should().Be(1);

            clock.Restart();
            await broker.StopAsync(cts.Token);
            output.WriteLine($"stopped in {clock.ElapsedMilliseconds} ms");
            broker.LastShutdown!.ExitCode.Should().Be(0, broker.LastShutdown.ToString());
            broker.IsRunning.Should().BeFalse();
            IsAlive(serverPid).Should().BeFalse();
            await FluentActions.Awaiting(() => RabbitMqBroker.AnswersAmqpAsync(broker.AmqpPort, cts.Token)).Should().ThrowAsync<System.Net.Sockets.SocketException>();

            clock.Restart();
            await broker.RestartAsync(cts.Token);
            output.WriteLine($"restarted in {clock.ElapsedMilliseconds} ms");
            (await RabbitMqBroker.AnswersAmqpAsync(broker.AmqpPort, cts.Token)).Should().BeTrue();
            await using (var connection = await factory.CreateConnectionAsync(cts.Token))
            await using (var channel = await connection.CreateChannelAsync(cancellationToken: cts.Token))
            {
                var kept = await channel.BasicGetAsync("harness-durable", autoAck: true, cts.Token);
                kept.Should().NotBeNull("a persistent message in a durable queue survives the restart");
                kept!.Body.ToArray().Should().Equal("kept"u8.ToArray());
            }
            serverPid = broker.ProcessId!.Value;
            IsAlive(serverPid).Should().BeTrue();
        }

        IsAlive(serverPid).Should().BeFalse();
        IsAlive(epmdPid).Should().BeFalse("the private epmd is the test's child and is killed by PID");
        Directory.Exists(dataDirectory).Should().BeFalse();
    }

    private static bool IsAlive(int pid)
    {
        // Stop() reaps the child, so a stopped peer has no /proc entry at all (not even a zombie).
        return Directory.Exists($"/proc/{pid}");
    }
}
