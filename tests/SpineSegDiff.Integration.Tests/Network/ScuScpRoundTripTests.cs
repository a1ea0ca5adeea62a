using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Network;

/// <summary>Our Storage SCU against our Storage SCP: byte fidelity, status mapping of sink failures, events, shutdown.</summary>
public sealed class ScuScpRoundTripTests(ITestOutputHelper output)
{
    private const int TestTimeout = 90_000;

    private static CancellationToken Bounded(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    [Fact(Timeout = TestTimeout)]
    public async Task Corpus_arrives_byte_for_byte_when_its_syntax_is_accepted_and_re_encoded_otherwise()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateCorpusAsync(temp.Combine("corpus"));
        Directory.CreateDirectory(temp.Combine("sink"));
        var sink = new DirectorySink(temp.Combine("sink"));
        await using var server = await TestServers.StartAsync(sink, output, o => o.MaxPduLength = 8192);
        var ended = new TaskCompletionSource<AssociationEndedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.AssociationEnded += (_, e) => ended.TrySetResult(e);
        var scu = new StorageScu(TestServers.Client(server), new TestOutputLoggerFactory(output));

        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), Bounded());

        results.Should().OnlyContain(r => r.Succeeded, string.Join("\n", results));
        sink.Stored.Should().HaveCount(manifest.Files.Count);
        foreach (var fixture in manifest.Files)
        {
            var (context, received) = sink.Stored[fixture.SopInstanceUid];
            await using var stream = File.OpenRead(fixture.Path);
            DicomFile.ReadMeta(stream, DicomReadOptions.Default, out var offset);
            var original = (await File.ReadAllBytesAsync(fixture.Path))[(int)offset..];
            if (fixture.TransferSyntaxUid == DicomTransferSyntax.ExplicitVRBigEndian.Uid)
            {
                // Not accepted by our node: re-encoded to Explicit VR Little Endian, same content.
                context.TransferSyntax.Should().Be(DicomTransferSyntax.ExplicitVRLittleEndian);
                var decoded = DicomDatasetReader.Read(new MemoryStream(received), context.TransferSyntax);
                decoded.FirstDifference(DicomFile.Open(fixture.Path).Dataset).Should().BeNull();
            }
            else
            {
                context.TransferSyntax.Uid.Should().Be(fixture.TransferSyntaxUid);
                received.Should().Equal(original, $"{fixture.FileName} was accepted in its own syntax and must be streamed unchanged");
            }
        }
        var summary = await ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        summary.Reason.Should().Be(AssociationEndReason.Released);
        summary.InstancesStored.Should().Be(manifest.Files.Count);
        Directory.EnumerateFiles(sink.Directory, "*.tmp").Should().BeEmpty();
    }

    public static TheoryData<string, ushort> SinkFailures => new()
    {
        { "begin: disk full", DimseStatus.OutOfResources },
        { "write: disk full", DimseStatus.OutOfResources },
        { "commit: undecodable", DimseStatus.CannotUnderstand },
        { "commit: bug", DimseStatus.ProcessingFailure },
    };

    [Theory(Timeout = TestTimeout)]
    [MemberData(nameof(SinkFailures))]
    public async Task Sink_failures_become_failure_statuses_for_that_file_only(string failure, ushort expected)
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Combine("series"), count: 3, rows: 64, cols: 64);
        Directory.CreateDirectory(temp.Combine("sink"));
        var sink = new DirectorySink(temp.Combine("sink"));
        var victim = manifest.Files[1].SopInstanceUid;
        var current = string.Empty;
        sink.FailOnBegin = context =>
        {
            current = context.SopInstanceUid;
            return failure == "begin: disk full" && current == victim ? new IOException("No space left on device") : null;
        };
        sink.FailOnWrite = written => failure == "write: disk full" && current == victim && written > 0 ? new IOException("No space left on device") : null;
        sink.FailOnCommit = () => current != victim ? null : failure switch
        {
            "commit: undecodable" => new DicomFormatException("bad", 10),
            "commit: bug" => new InvalidOperationException("bug"),
            _ => null,
        };
        await using var server = await TestServers.StartAsync(sink, output, o => o.MaxPduLength = 4096);
        var scu = new StorageScu(TestServers.Client(server), new TestOutputLoggerFactory(output));

        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), Bounded());

        results.Select(r => r.Succeeded).Should().Equal(true, false, true);
        results[1].Status.Should().Be(expected);
        results[1].Error.Should().Contain($"0x{expected:X4}");
        sink.Stored.Keys.Should().BeEquivalentTo([manifest.Files[0].SopInstanceUid, manifest.Files[2].SopInstanceUid]);
        Directory.EnumerateFiles(sink.Directory, "*.tmp").Should().BeEmpty();
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Rejection_by_our_server_is_reported_for_every_file()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Path, count: 2, rows: 16, cols: 16);
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output);
        var scu = new StorageScu(TestServers.Client(server, c => c.CalledAeTitle = "WRONG"), new TestOutputLoggerFactory(output));

        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), Bounded());

        results.Should().HaveCount(2).And.OnlyContain(r => !r.Succeeded && r.Status == null && r.Error!.Contains("rejected"));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Stop_aborts_open_associations_and_waits_for_them()
    {
        using var temp = new TempDirectory("spineseg-net");
        var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output);
        var ended = new TaskCompletionSource<AssociationEndedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.AssociationEnded += (_, e) => ended.TrySetResult(e);
        var (raw, _) = await RawAssociation.AssociateAsync(server.LocalEndPoint, Bounded());
        await using var __ = raw;
        server.ActiveAssociations.Should().Be(1);

        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));

        server.ActiveAssociations.Should().Be(0);
        (await ended.Task.WaitAsync(TimeSpan.FromSeconds(5))).Reason.Should().Be(AssociationEndReason.Shutdown);
        (await raw.ReadUntilClosedAsync(Bounded(10))).Should().ContainSingle().Which.Should().Be(new AAbort(AbortSource.ServiceUser, AbortReason.NotSpecified));
        var act = () => new EchoScu(TestServers.Client(server)).EchoAsync(Bounded());
        await act.Should().ThrowAsync<DicomNetworkException>();
        await server.DisposeAsync();
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Cancelling_the_start_token_shuts_the_server_down()
    {
        using var temp = new TempDirectory("spineseg-net");
        using var lifetime = new CancellationTokenSource();
        await using var server = new DicomServer(TestServers.Options(), new DirectorySink(temp.Path), new TestOutputLoggerFactory(output));
        await server.StartAsync(lifetime.Token);
        (await new EchoScu(TestServers.Client(server)).EchoAsync(Bounded())).Should().Be(DimseStatus.Success);

        await lifetime.CancelAsync();

        (await TestServers.EventuallyAsync(() =>
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect(Tools.Loopback, server.LocalEndPoint.Port);
                return false;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(10))).Should().BeTrue("the listener must close once the lifetime token is cancelled");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Echo_over_many_associations_in_parallel()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output, o => o.MaxAssociations = 32);
        var echo = new EchoScu(TestServers.Client(server));

        var statuses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => echo.EchoAsync(Bounded())));

        statuses.Should().OnlyContain(s => s == DimseStatus.Success);
        (await TestServers.EventuallyAsync(() => server.ActiveAssociations == 0, TimeSpan.FromSeconds(5))).Should().BeTrue();
    }
}
