using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Gateway.Tests.Support;

namespace SpineSegDiff.Gateway.Tests;

/// <summary>The exporter against real peers: dcmtk storescp, and our own DicomServer where a refusal must be scripted.</summary>
public sealed class ExportDispatcherTests : IDisposable
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _temp = new("spineseg-export");

    public void Dispose() => _temp.Dispose();

    private string QueueDirectory => _temp.Combine("queue");

    private IReadOnlyList<string> Results(int count) =>
    [
        TestDicomFiles.Create(_temp.Combine("results"), "seg.dcm"),
        .. Enumerable.Range(1, count - 1).Select(i => TestDicomFiles.Create(_temp.Combine("results"), $"sc{i}.dcm", DicomUids.SecondaryCaptureImageStorage)),
    ];

    [Fact]
    public async Task Delivers_a_seg_and_a_secondary_capture_to_dcmtk_storescp()
    {
        await using var scp = await DcmtkStoreScp.StartAsync("PACS");
        using var node = new ExportNode(ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", scp.Port)));
        var files = Results(2);
        await node.Queue.EnqueueAsync("pacs", "study-1", files, CancellationToken.None);
        node.Captured.Pending().Should().Be(1);

        var pass = await node.Dispatcher.RunOnceAsync(CancellationToken.None);

        pass.Delivered.Should().Be(1, scp.Output);
        var received = await scp.WaitForFilesAsync(2, Bounded);
        foreach (var uid in files.Select(TestDicomFiles.SopInstanceUidOf))
        {
            received.Should().ContainSingle(r => r.EndsWith("." + uid, StringComparison.Ordinal), "storescp names files <modality>.<SOP Instance UID>");
        }
        node.Queue.ListPending().Should().BeEmpty();
        Directory.EnumerateDirectories(node.Queue.PendingDirectory).Should().BeEmpty();
        node.Captured["spineseg.gateway.exports.delivered"].Should().Be(1);
        node.Captured.Pending().Should().Be(0);
        node.Logs.Count(3521).Should().Be(1);
        node.Logs.Entries.Should().NotContain(e => e.Message.Contains("EXPORT-TEST", StringComparison.Ordinal), "no patient data in logs");
    }

    [Fact]
    public async Task A_destination_that_is_down_keeps_the_item_pending_until_it_comes_up()
    {
        var port = FreePort.Get();
        using var node = new ExportNode(ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", port)));
        var files = Results(1);
        var item = await node.Queue.EnqueueAsync("pacs", "study-2", files, CancellationToken.None);

        var pass = await node.Dispatcher.RunOnceAsync(CancellationToken.None);

        pass.Failed.Should().Be(1);
        var pending = node.Queue.ListPending().Should().ContainSingle().Subject;
        pending.Attempts.Should().Be(2, "AttemptsPerRound sends in the round");
        pending.FailedRounds.Should().Be(1);
        pending.LastError.Should().Contain("Cannot connect");
        pending.NextAttemptAt.Should().BeAfter(pending.CreatedAt);
        node.Captured["spineseg.gateway.exports.retries"].Should().Be(1);
        node.Logs.Count(3522).Should().Be(1);

        await using var scp = await DcmtkStoreScp.StartAsync("PACS", new StoreScpOptions { Port = port });
        await node.RunUntilAsync(() => node.Queue.PendingCount == 0, Bounded);

        node.Queue.PendingCount.Should().Be(0, string.Join("\n", node.Logs.Entries.Select(e => e.Message)));
        (await scp.WaitForFilesAsync(1, Bounded)).Should().ContainSingle().Which.Should().EndWith(TestDicomFiles.SopInstanceUidOf(files[0]));
        node.Logs.Entries.Should().Contain(e => e.EventId == 3521 && e.Message.Contains(item.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pending_items_survive_a_restart_of_dispatcher_and_queue()
    {
        var port = FreePort.Get();
        var options = ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", port));
        options.Retry.BaseDelay = TimeSpan.FromSeconds(30);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(30);
        var files = Results(3);
        string id;
        using (var first = new ExportNode(options))
        {
            id = (await first.Queue.EnqueueAsync("pacs", "study-3", files, CancellationToken.None)).Id;
            using var stop = new CancellationTokenSource();
            var loop = first.Dispatcher.RunAsync(stop.Token);
            // The first send failed; the round now sits in Polly's 30 s backoff: stop the node mid-round.
            var deadline = DateTime.UtcNow + Bounded;
            while (first.Logs.Count(3528) == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            await stop.CancelAsync();
            await loop.WaitAsync(Bounded);
            first.Logs.Count(3532).Should().Be(1, "the dispatcher stopped cleanly");
            var interrupted = first.Queue.ListPending().Should().ContainSingle().Subject;
            interrupted.Attempts.Should().Be(1, "the send made before shutdown is recorded");
            interrupted.FailedRounds.Should().Be(0, "an interrupted round is not a failed round");
        }

        await using var scp = await DcmtkStoreScp.StartAsync("PACS", new StoreScpOptions { Port = port });
        options.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        using var second = new ExportNode(options);
        second.Queue.ListPending().Should().ContainSingle().Which.Id.Should().Be(id);
        await second.RunUntilAsync(() => second.Queue.PendingCount == 0, Bounded);

        (await scp.WaitForFilesAsync(3, Bounded)).Should().HaveCount(3);
        second.Queue.PendingCount.Should().Be(0);
    }

    [Fact]
    public async Task A_destination_without_the_sop_class_parks_the_item_once_and_retry_puts_it_back()
    {
        var withoutSeg = DicomServerOptions.DefaultSopClasses.Where(c => c != DicomUids.SegmentationStorage);
        await using var pacs = await OwnStoreScp.StartAsync(sopClasses: withoutSeg);
        CountingSender? counter = null;
        var options = ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", pacs.Port));
        options.Retry.AttemptsPerRound = 5;
        using var node = new ExportNode(options, wrapSender: s => counter = new CountingSender(s));
        var item = await node.Queue.EnqueueAsync("pacs", "study-4", Results(1), CancellationToken.None);

        var first = await node.Dispatcher.RunOnceAsync(CancellationToken.None);
        var second = await node.Dispatcher.RunOnceAsync(CancellationToken.None);
        await node.RunUntilAsync(() => false, TimeSpan.FromMilliseconds(300));

        first.Parked.Should().Be(1);
        second.Should().Be(new ExportPassResult(0, 0, 0, 0));
        counter!.Calls.Should().Be(1, "a permanent failure is not retried");
        await pacs.WaitForAssociationsAsync(1, Bounded);
        pacs.Associations.Should().Be(1);
        pacs.Instances.Should().BeEmpty();
        var parked = node.Queue.ListParked().Should().ContainSingle().Subject;
        parked.Id.Should().Be(item.Id);
        parked.Attempts.Should().Be(1);
        parked.Park!.Kind.Should().Be(ExportFailureKind.Permanent);
        parked.Park.Reason.Should().Contain("SOP class");
        File.Exists(Path.Combine(node.Queue.ParkedDirectory, item.Id, "reason.json")).Should().BeTrue();
        node.Captured["spineseg.gateway.exports.parked"].Should().Be(1);
        node.Logs.Entries.Should().ContainSingle(e => e.EventId == 3523).Which.Message.Should().Contain(item.Id).And.Contain("pacs").And.Contain("SOP class");

        (await node.Queue.RetryAsync(item.Id, CancellationToken.None)).Should().BeTrue();
        node.Queue.ListPending().Should().ContainSingle().Which.Id.Should().Be(item.Id);

        // The PACS is reconfigured (here: the same destination name now points at one that takes SEG): delivered.
        await using var scp = await DcmtkStoreScp.StartAsync("PACS");
        node.Dispose();
        using var fixedNode = new ExportNode(ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", scp.Port)));
        (await fixedNode.Dispatcher.RunOnceAsync(CancellationToken.None)).Delivered.Should().Be(1);
        (await scp.WaitForFilesAsync(1, Bounded)).Should().ContainSingle();
    }

    [Fact]
    public async Task A_permanently_rejected_association_parks_after_one_send()
    {
        await using var pacs = await OwnStoreScp.StartAsync(allowedCallingAeTitles: ["SOMEONE"]);
        var options = ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", pacs.Port));
        options.Retry.AttemptsPerRound = 5;
        using var node = new ExportNode(options);
        await node.Queue.EnqueueAsync("pacs", "study-5", Results(1), CancellationToken.None);

        (await node.Dispatcher.RunOnceAsync(CancellationToken.None)).Parked.Should().Be(1);
        (await node.Dispatcher.RunOnceAsync(CancellationToken.None)).Parked.Should().Be(0);

        var parked = node.Queue.ListParked().Should().ContainSingle().Subject;
        parked.Attempts.Should().Be(1);
        parked.Park!.Reason.Should().Contain("rejected permanently");
    }

    [Fact]
    public async Task Out_of_resources_is_retried_and_only_the_refused_file_is_sent_again()
    {
        // The second C-STORE of the first association is refused with 0xA700; everything after is stored.
        await using var pacs = await OwnStoreScp.StartAsync(statusForStore: n => n == 2 ? DimseStatus.OutOfResources : null);
        using var node = new ExportNode(ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", pacs.Port)));
        var files = Results(3);
        await node.Queue.EnqueueAsync("pacs", "study-6", files, CancellationToken.None);

        var pass = await node.Dispatcher.RunOnceAsync(CancellationToken.None);

        pass.Delivered.Should().Be(1);
        pacs.Sink.Stores.Should().Be(4, "three files plus one resend of the refused one");
        await pacs.WaitForAssociationsAsync(2, Bounded);
        var byInstance = pacs.Instances.GroupBy(i => i.SopInstanceUid).ToDictionary(g => g.Key, g => g.Count());
        byInstance.Values.Should().BeEquivalentTo([1, 1, 2]);
        pacs.Instances.Where(i => StoreStatus.IsStored(i.Status)).Select(i => i.SopInstanceUid)
            .Should().BeEquivalentTo(files.Select(TestDicomFiles.SopInstanceUidOf));
        node.Captured["spineseg.gateway.exports.retries"].Should().Be(1);
    }

    [Fact]
    public async Task The_circuit_opens_after_repeated_transient_failures_and_spares_the_destination()
    {
        await using var pacs = await OwnStoreScp.StartAsync(statusForStore: _ => DimseStatus.OutOfResources);
        var options = ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", pacs.Port));
        options.Retry.AttemptsPerRound = 5;
        options.CircuitBreaker = new ExportCircuitBreakerOptions
        {
            FailureRatio = 0.5,
            MinimumThroughput = 2,
            SamplingDuration = TimeSpan.FromMinutes(5),
            BreakDuration = TimeSpan.FromMinutes(5),
        };
        CountingSender? counter = null;
        using var node = new ExportNode(options, wrapSender: s => counter = new CountingSender(s));
        for (var i = 0; i < 3; i++)
        {
            await node.Queue.EnqueueAsync("pacs", $"study-7-{i}", Results(1), CancellationToken.None);
        }

        var pass = await node.Dispatcher.RunOnceAsync(CancellationToken.None);
        var later = await node.Dispatcher.RunOnceAsync(CancellationToken.None);

        counter!.Calls.Should().Be(2, "the breaker opened after MinimumThroughput failures; 3 items x 5 attempts would be 15");
        pass.Should().Be(new ExportPassResult(Delivered: 0, Failed: 1, Parked: 0, Skipped: 2));
        later.Delivered.Should().Be(0);
        later.Parked.Should().Be(0);
        node.Logs.Count(3525).Should().Be(1);
        node.Queue.ListPending().Should().HaveCount(3, "nothing is lost or parked while the circuit is open");
        node.Queue.ListPending().Sum(i => i.Attempts).Should().Be(2);
    }

    [Fact]
    public async Task An_item_never_delivered_within_MaxPendingAge_is_parked()
    {
        var time = new ShiftedTimeProvider();
        var options = ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", FreePort.Get()));
        options.MaxPendingAge = TimeSpan.FromHours(24);
        using var node = new ExportNode(options, time);
        var item = await node.Queue.EnqueueAsync("pacs", "study-8", Results(1), CancellationToken.None);
        (await node.Dispatcher.RunOnceAsync(CancellationToken.None)).Failed.Should().Be(1);

        time.Offset = TimeSpan.FromHours(25);
        var pass = await node.Dispatcher.RunOnceAsync(CancellationToken.None);

        pass.Parked.Should().Be(1);
        var parked = node.Queue.ListParked().Should().ContainSingle().Subject;
        parked.Park!.Reason.Should().StartWith("Not delivered within 1.00:00:00");
        parked.Attempts.Should().Be(4);
        node.Logs.Count(3524).Should().Be(1);
        node.Captured["spineseg.gateway.exports.parked"].Should().Be(1);

        (await node.Queue.RetryAsync(item.Id, CancellationToken.None)).Should().BeTrue();
        node.Queue.ListPending().Single().PendingSince.Should().BeAfter(parked.CreatedAt.AddHours(24), "a retry restarts the clock");
    }

    [Fact]
    public async Task A_folder_destination_gets_durable_copies_named_by_our_ids()
    {
        var target = _temp.Combine("outbox");
        using var node = new ExportNode(ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Folder("local", target)));
        var files = Results(2);
        var item = await node.Queue.EnqueueAsync("local", "study-9", files, CancellationToken.None);

        (await node.Dispatcher.RunOnceAsync(CancellationToken.None)).Delivered.Should().Be(1);

        File.ReadAllBytes(Path.Combine(target, item.Id, "0000.dcm")).Should().Equal(File.ReadAllBytes(files[0]));
        File.ReadAllBytes(Path.Combine(target, item.Id, "0001.dcm")).Should().Equal(File.ReadAllBytes(files[1]));
        Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Should().HaveCount(2, "no temporary files left");
        node.Queue.PendingCount.Should().Be(0);
    }

    [Fact]
    public async Task An_item_for_a_destination_removed_from_the_configuration_is_parked()
    {
        using (var before = new ExportNode(ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Folder("old", _temp.Combine("old")))))
        {
            await before.Queue.EnqueueAsync("old", "study-10", Results(1), CancellationToken.None);
        }
        using var node = new ExportNode(ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Folder("new", _temp.Combine("new"))));

        (await node.Dispatcher.RunOnceAsync(CancellationToken.None)).Parked.Should().Be(1);
        node.Queue.ListParked().Single().Park!.Reason.Should().Contain("no longer configured");
    }

    [Fact]
    public async Task A_destination_that_hangs_does_not_hold_up_another_destination()
    {
        // A peer that accepts TCP and never answers the A-ASSOCIATE-RQ: our SCU waits out its ARTIM timeout.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var silentPort = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var hanging = ExportTestOptions.Dicom("stuck", silentPort);
        hanging.ArtimTimeout = TimeSpan.FromMinutes(2);
        var target = _temp.Combine("outbox");
        var options = ExportTestOptions.Create(QueueDirectory, hanging, ExportTestOptions.Folder("local", target));
        using var node = new ExportNode(options);
        var stuck = await node.Queue.EnqueueAsync("stuck", "study-11", Results(1), CancellationToken.None);
        var local = await node.Queue.EnqueueAsync("local", "study-12", Results(1), CancellationToken.None);

        await node.RunUntilAsync(() => node.Queue.PendingCount == 1, Bounded);

        node.Queue.ListPending().Should().ContainSingle().Which.Id.Should().Be(stuck.Id, "the folder item went while the PACS hung");
        File.Exists(Path.Combine(target, local.Id, "0000.dcm")).Should().BeTrue();
        node.Queue.ListPending().Single().FailedRounds.Should().Be(0, "stopping the node cut the hung round short; it is not counted as failed");
    }

    [Fact]
    public async Task A_status_the_destination_cannot_understand_parks_at_once()
    {
        await using var pacs = await OwnStoreScp.StartAsync(statusForStore: _ => DimseStatus.CannotUnderstand);
        var options = ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", pacs.Port));
        options.Retry.AttemptsPerRound = 5;
        using var node = new ExportNode(options);
        await node.Queue.EnqueueAsync("pacs", "study-13", Results(2), CancellationToken.None);

        (await node.Dispatcher.RunOnceAsync(CancellationToken.None)).Parked.Should().Be(1);

        pacs.Sink.Stores.Should().Be(2, "both files were tried once, neither again");
        node.Queue.ListParked().Single().Park!.Reason.Should().Contain("0xC000");
    }

    [Fact]
    public async Task Delivers_to_orthanc_as_the_hospital_pacs()
    {
        await using var orthanc = await OrthancServer.StartAsync(new OrthancOptions { EnableDicomWeb = false });
        using var node = new ExportNode(ExportTestOptions.Create(QueueDirectory, ExportTestOptions.Dicom("pacs", orthanc.DicomPort, orthanc.AeTitle)));
        var files = Results(2);
        await node.Queue.EnqueueAsync("pacs", "study-14", files, CancellationToken.None);

        (await node.Dispatcher.RunOnceAsync(CancellationToken.None)).Delivered.Should().Be(1);

        (await orthanc.CountInstancesAsync()).Should().Be(2, orthanc.Output);
        var segs = await orthanc.FindAsync("Instance", new Dictionary<string, string> { ["Modality"] = "SEG" });
        var tags = await orthanc.GetInstanceTagsAsync(segs.Should().ContainSingle().Subject);
        tags.GetProperty("SOPInstanceUID").GetString().Should().Be(TestDicomFiles.SopInstanceUidOf(files[0]));
    }
}
