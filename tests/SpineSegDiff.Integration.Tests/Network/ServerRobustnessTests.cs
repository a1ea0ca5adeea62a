using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Network;

/// <summary>
/// The server under hostile or broken clients: limits refuse instead of blocking, timeouts free what silent clients
/// hold, protocol errors abort one association and the node keeps serving (ARCHITECTURE.md sections 4 and 8).
/// </summary>
public sealed class ServerRobustnessTests(ITestOutputHelper output)
{
    private const int TestTimeout = 60_000;

    private static CancellationToken Bounded(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    private async Task EchoMustSucceedAsync(DicomServer server, TimeSpan? within = null)
    {
        var sw = Stopwatch.StartNew();
        var status = await new EchoScu(TestServers.Client(server), new TestOutputLoggerFactory(output)).EchoAsync(Bounded());
        status.Should().Be(DimseStatus.Success);
        if (within is { } limit)
        {
            sw.Elapsed.Should().BeLessThan(limit);
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Calling_ae_title_outside_the_allow_list_is_rejected_permanently()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output, o => o.AllowedCallingAeTitles = ["PACS"]);

        var act = () => new EchoScu(TestServers.Client(server, c => c.CallingAeTitle = "INTRUDER")).EchoAsync(Bounded());

        var rejected = (await act.Should().ThrowAsync<DicomAssociationRejectedException>()).Which;
        rejected.Reject.Should().Be(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CallingAeTitleNotRecognized));
        rejected.IsTransient.Should().BeFalse();
        (await new EchoScu(TestServers.Client(server, c => c.CallingAeTitle = "PACS")).EchoAsync(Bounded())).Should().Be(DimseStatus.Success);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_full_store_gives_a_transient_congestion_rejection_on_the_wire_and_the_node_serves_once_space_returns()
    {
        using var temp = new TempDirectory("spineseg-net");
        var sink = new CapacitySink(new DirectorySink(temp.Path)) { Capacity = new StorageCapacity(false, 10L << 20, 1024L << 20) };
        await using var server = await TestServers.StartAsync(sink, output, o => o.MaxAssociations = 1);

        var (raw, answer) = await RawAssociation.AssociateAsync(server.LocalEndPoint, Bounded());
        await using (raw)
        {
            // PS3.8 table 9-21: result 2 (transient), source 3 (service provider, presentation), reason 1 (temporary congestion).
            answer.Should().Be(new AAssociateRj(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, 1));
            PduEncoder.Encode(answer).Should().Equal(0x03, 0x00, 0, 0, 0, 4, 0x00, 0x02, 0x03, 0x01);
        }
        // A caller refused for good hears the permanent reason, not "try again later".
        var (unknown, permanent) = await RawAssociation.AssociateAsync(server.LocalEndPoint, Bounded(), called: "NOSUCHAE");
        await using (unknown)
        {
            permanent.Should().Be(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CalledAeTitleNotRecognized));
        }
        server.ActiveAssociations.Should().Be(0, "a refused association takes no slot (MaxAssociations is 1 here)");
        sink.Checks.Should().Be(1, "the store is asked once per association, after the AE title checks");

        sink.Capacity = StorageCapacity.Unlimited;
        await EchoMustSucceedAsync(server);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Association_limit_gives_a_transient_rejection_and_the_node_serves_right_after()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output, o => o.MaxAssociations = 2);
        var requester = new AssociationRequester(TestServers.Client(server));
        var verification = new[] { new PresentationContextProposal(1, DicomUids.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid]) };
        await using var first = await requester.RequestAsync(verification, Bounded());
        await using var second = await requester.RequestAsync(verification, Bounded());
        server.ActiveAssociations.Should().Be(2);

        var act = () => requester.RequestAsync(verification, Bounded());

        var rejected = (await act.Should().ThrowAsync<DicomAssociationRejectedException>()).Which;
        rejected.Reject.Should().Be(new AAssociateRj(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, AssociateRejectReason.LocalLimitExceeded));
        rejected.IsTransient.Should().BeTrue();
        (await first.EchoAsync(Bounded())).Should().Be(DimseStatus.Success, "held associations keep working");

        await first.ReleaseAsync(Bounded());
        (await TestServers.EventuallyAsync(() => server.ActiveAssociations == 1, TimeSpan.FromSeconds(5))).Should().BeTrue();
        await EchoMustSucceedAsync(server);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Silent_client_is_dropped_after_artim()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output, o => o.ArtimTimeout = TimeSpan.FromSeconds(1));
        await using var silent = await RawAssociation.ConnectAsync(server.LocalEndPoint, Bounded());
        (await TestServers.EventuallyAsync(() => server.PendingConnections == 1, TimeSpan.FromSeconds(5))).Should().BeTrue();

        var sw = Stopwatch.StartNew();
        var seen = await silent.ReadUntilClosedAsync(Bounded(10));

        sw.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(800)).And.BeLessThan(TimeSpan.FromSeconds(5));
        seen.Should().BeEmpty("before an association there is nothing to abort: the socket is just closed");
        (await TestServers.EventuallyAsync(() => server.PendingConnections == 0, TimeSpan.FromSeconds(5))).Should().BeTrue();
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Hundred_silent_sockets_do_not_delay_an_echo_from_another_client()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output, o => o.ArtimTimeout = TimeSpan.FromSeconds(30));
        var silent = new List<RawAssociation>();
        try
        {
            for (var i = 0; i < 100; i++)
            {
                silent.Add(await RawAssociation.ConnectAsync(server.LocalEndPoint, Bounded()));
            }
            (await TestServers.EventuallyAsync(() => server.PendingConnections == 100, TimeSpan.FromSeconds(10))).Should().BeTrue();

            var sw = Stopwatch.StartNew();
            await EchoMustSucceedAsync(server);
            output.WriteLine($"Echo with 100 silent sockets held: {sw.Elapsed.TotalMilliseconds:F1} ms");
            sw.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
            server.PendingConnections.Should().Be(100);
        }
        finally
        {
            foreach (var socket in silent)
            {
                await socket.DisposeAsync();
            }
        }
        (await TestServers.EventuallyAsync(() => server.PendingConnections == 0, TimeSpan.FromSeconds(10))).Should().BeTrue();
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Sockets_beyond_the_pending_limit_are_closed_at_once()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output, o => o.MaxPendingConnections = 5);
        var silent = new List<RawAssociation>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                silent.Add(await RawAssociation.ConnectAsync(server.LocalEndPoint, Bounded()));
            }
            (await TestServers.EventuallyAsync(() => server.PendingConnections == 5, TimeSpan.FromSeconds(5))).Should().BeTrue();

            await using var extra = await RawAssociation.ConnectAsync(server.LocalEndPoint, Bounded());
            var sw = Stopwatch.StartNew();
            (await extra.ReadUntilClosedAsync(Bounded(10))).Should().BeEmpty();
            sw.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
        }
        finally
        {
            foreach (var socket in silent)
            {
                await socket.DisposeAsync();
            }
        }
        (await TestServers.EventuallyAsync(() => server.PendingConnections == 0, TimeSpan.FromSeconds(5))).Should().BeTrue();
        await EchoMustSucceedAsync(server);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Idle_association_is_aborted_by_the_provider()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output, o => o.IdleTimeout = TimeSpan.FromSeconds(1));
        var ended = new TaskCompletionSource<AssociationEndedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.AssociationEnded += (_, e) => ended.TrySetResult(e);
        var (raw, answer) = await RawAssociation.AssociateAsync(server.LocalEndPoint, Bounded());
        await using var _ = raw;
        answer.Should().BeOfType<AAssociateAc>();

        var sw = Stopwatch.StartNew();
        var seen = await raw.ReadUntilClosedAsync(Bounded(10));

        seen.Should().ContainSingle().Which.Should().Be(new AAbort(AbortSource.ServiceProvider, AbortReason.NotSpecified));
        sw.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(800)).And.BeLessThan(TimeSpan.FromSeconds(5));
        (await ended.Task.WaitAsync(TimeSpan.FromSeconds(10))).Reason.Should().Be(AssociationEndReason.IdleTimeout);
        server.ActiveAssociations.Should().Be(0);
    }

    public static TheoryData<string> MalformedInputs => ["wrong type", "over-max length", "truncated", "garbage", "second associate request", "data on an unknown context", "data before command"];

    [Theory(Timeout = TestTimeout)]
    [MemberData(nameof(MalformedInputs))]
    public async Task Malformed_pdu_on_an_association_is_aborted_and_the_node_keeps_serving(string kind)
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output, o => o.MaxPduLength = 16384);
        var ended = new TaskCompletionSource<AssociationEndedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.AssociationEnded += (_, e) => ended.TrySetResult(e);
        var (raw, answer) = await RawAssociation.AssociateAsync(server.LocalEndPoint, Bounded());
        await using var _ = raw;
        answer.Should().BeOfType<AAssociateAc>();

        await SendMalformedAsync(raw, kind);
        var seen = await raw.ReadUntilClosedAsync(Bounded(10));

        seen.Should().ContainSingle().Which.Should().BeOfType<AAbort>().Which.Source.Should().Be(AbortSource.ServiceProvider);
        (await ended.Task.WaitAsync(TimeSpan.FromSeconds(10))).Reason.Should().Be(AssociationEndReason.ProtocolError);
        server.ActiveAssociations.Should().Be(0);
        await EchoMustSucceedAsync(server);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData("garbage")]
    [InlineData("wrong type")]
    [InlineData("over-max length")]
    [InlineData("p-data before association")]
    public async Task Malformed_first_pdu_is_aborted_and_the_node_keeps_serving(string kind)
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output);
        await using var raw = await RawAssociation.ConnectAsync(server.LocalEndPoint, Bounded());

        if (kind == "p-data before association")
        {
            await raw.SendCommandAsync(1, DimseCommand.CreateEchoRequest(1), Bounded());
        }
        else
        {
            await SendMalformedAsync(raw, kind);
        }
        var seen = await raw.ReadUntilClosedAsync(Bounded(10));

        seen.Should().ContainSingle().Which.Should().BeOfType<AAbort>();
        (await TestServers.EventuallyAsync(() => server.PendingConnections == 0, TimeSpan.FromSeconds(5))).Should().BeTrue();
        await EchoMustSucceedAsync(server);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Store_request_for_another_sop_class_than_the_context_is_refused_and_the_association_goes_on()
    {
        using var temp = new TempDirectory("spineseg-net");
        var sink = new DirectorySink(temp.Path);
        await using var server = await TestServers.StartAsync(sink, output);
        var (raw, _) = await RawAssociation.AssociateAsync(server.LocalEndPoint, Bounded());
        await using var __ = raw;

        // Context 3 is MR; the request claims CT.
        await raw.SendCommandAsync(3, DimseCommand.CreateStoreRequest(7, DicomUids.CTImageStorage, "1.2.3.4"), Bounded());
        await raw.SendDataAsync(3, new byte[1000], last: false, Bounded());
        await raw.SendDataAsync(3, new byte[500], last: true, Bounded());
        var response = await raw.ReadCommandAsync(Bounded());

        response.CommandField.Should().Be(DimseCommandField.CStoreResponse);
        response.MessageIdBeingRespondedTo.Should().Be(7);
        response.Status.Should().Be(DimseStatus.SopClassNotSupported);
        response.AffectedSopInstanceUid.Should().Be("1.2.3.4");
        sink.Stored.Should().BeEmpty();

        await raw.SendCommandAsync(1, DimseCommand.CreateEchoRequest(8), Bounded());
        (await raw.ReadCommandAsync(Bounded())).Status.Should().Be(DimseStatus.Success);
        await raw.SendAsync(new AReleaseRq(), Bounded());
        (await raw.ReadAsync(Bounded())).Should().BeOfType<AReleaseRp>();
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Unsupported_operation_is_answered_unrecognized_and_cancel_gets_no_answer()
    {
        using var temp = new TempDirectory("spineseg-net");
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), output);
        var (raw, _) = await RawAssociation.AssociateAsync(server.LocalEndPoint, Bounded());
        await using var __ = raw;
        var find = DimseCommand.CreateResponse(DimseCommandField.CFindRequest, 0, DicomUids.Verification, null, 0, null);

        await raw.SendCommandAsync(1, find, Bounded());
        var response = await raw.ReadCommandAsync(Bounded());
        await raw.SendCommandAsync(1, DimseCommand.CreateResponse(DimseCommandField.CCancelRequest, 0, null, null, 0, null), Bounded());
        await raw.SendCommandAsync(1, DimseCommand.CreateEchoRequest(5), Bounded());
        var echo = await raw.ReadCommandAsync(Bounded());

        response.CommandField.Should().Be((DimseCommandField)0x8020);
        response.Status.Should().Be(DimseStatus.UnrecognizedOperation);
        echo.MessageIdBeingRespondedTo.Should().Be(5, "the C-CANCEL got no response, so the next one read answers the echo");
        echo.Status.Should().Be(DimseStatus.Success);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData("abort")]
    [InlineData("close")]
    [InlineData("release")]
    [InlineData("stall")]
    public async Task Store_interrupted_mid_dataset_leaves_no_file_and_no_temporary_file(string how)
    {
        using var temp = new TempDirectory("spineseg-net");
        using var loggers = new TestOutputLoggerFactory(output);
        var store = new InstanceStore(new InstanceStoreOptions { RootDirectory = temp.Path }, loggers.CreateLogger<InstanceStore>());
        await using var server = await TestServers.StartAsync(store, output, o => o.DimseTimeout = TimeSpan.FromSeconds(1));
        var ended = new TaskCompletionSource<AssociationEndedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.AssociationEnded += (_, e) => ended.TrySetResult(e);
        var (raw, _) = await RawAssociation.AssociateAsync(server.LocalEndPoint, Bounded());
        await using var __ = raw;

        await raw.SendCommandAsync(3, DimseCommand.CreateStoreRequest(1, DicomUids.MRImageStorage, "1.2.3.4.5"), Bounded());
        await raw.SendDataAsync(3, new byte[8000], last: false, Bounded());
        (await TestServers.EventuallyAsync(() => Directory.EnumerateFiles(store.IncomingDirectory).Any(), TimeSpan.FromSeconds(5)))
            .Should().BeTrue("the transfer must be under way in the store before it is interrupted");
        switch (how)
        {
            case "abort":
                await raw.SendAsync(new AAbort(AbortSource.ServiceUser, AbortReason.NotSpecified), Bounded());
                break;
            case "close":
                raw.Socket.Close(0);
                break;
            case "release":
                await raw.SendAsync(new AReleaseRq(), Bounded());
                (await raw.ReadAsync(Bounded())).Should().BeOfType<AReleaseRp>();
                raw.Socket.Close();
                break;
            case "stall":
                break; // the DIMSE timeout (1 s) ends it
        }

        var summary = await ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"Ended: {summary.Reason}");
        Directory.EnumerateFiles(store.IncomingDirectory).Should().BeEmpty("an interrupted transfer must not leave its temporary file (fo-dicom #711)");
        store.EnumerateInstanceFiles().Should().BeEmpty();
        summary.Instances.Should().BeEmpty();
        server.ActiveAssociations.Should().Be(0);
    }

    private static async Task SendMalformedAsync(RawAssociation raw, string kind)
    {
        switch (kind)
        {
            case "wrong type":
                await raw.SendRawAsync([0x09, 0, 0, 0, 0, 4, 0, 0, 0, 0], Bounded());
                break;
            case "over-max length":
                // Claims a 1 MB P-DATA-TF (over the 16 KiB we advertised) and sends a little: it must be refused from the header.
                await raw.SendRawAsync([0x04, 0, 0, 0x10, 0, 0, 0, 0, 0, 0x10], Bounded());
                break;
            case "truncated":
                await raw.SendRawAsync([0x04, 0, 0, 0, 0, 100, 0, 0, 0, 20, 1, 3], Bounded());
                raw.Socket.Shutdown(SocketShutdown.Send);
                break;
            case "garbage":
                var garbage = new byte[200];
                new Random(7).NextBytes(garbage);
                garbage[0] = 0xEE;
                await raw.SendRawAsync(garbage, Bounded());
                break;
            case "second associate request":
                await raw.SendAsync(new AAssociateRq("SEGNODE", "RAWSCU", [new PresentationContextProposal(1, DicomUids.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid])], new UserInformation()), Bounded());
                break;
            case "data on an unknown context":
                await raw.SendCommandAsync(9, DimseCommand.CreateEchoRequest(1), Bounded());
                break;
            case "data before command":
                await raw.SendDataAsync(3, new byte[10], last: true, Bounded());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>A sink whose free-space answer the test sets (a full disk without filling one).</summary>
    private sealed class CapacitySink(IStorageSink inner) : IStorageSink
    {
        private int _checks;

        public StorageCapacity Capacity { get; set; } = StorageCapacity.Unlimited;

        public int Checks => Volatile.Read(ref _checks);

        public ValueTask<IStoreTransaction> BeginAsync(StoreRequestContext context, CancellationToken cancellationToken) => inner.BeginAsync(context, cancellationToken);

        public StorageCapacity CheckCapacity()
        {
            Interlocked.Increment(ref _checks);
            return Capacity;
        }
    }
}
