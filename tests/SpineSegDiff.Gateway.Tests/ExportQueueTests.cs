using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Gateway.Tests.Support;

namespace SpineSegDiff.Gateway.Tests;

public sealed class ExportQueueTests : IDisposable
{
    private readonly TempDirectory _temp = new("spineseg-exportqueue");

    public void Dispose() => _temp.Dispose();

    private ExportOptions Options() => ExportTestOptions.Create(_temp.Combine("queue"), ExportTestOptions.Dicom("pacs", 11112));

    private ExportQueue Open() => new(Options(), NullLogger<ExportQueue>.Instance);

    private IReadOnlyList<string> Sources(int count) =>
        Enumerable.Range(0, count).Select(i => TestDicomFiles.Create(_temp.Combine("source"), $"result{i}.dcm")).ToList();

    [Fact]
    public async Task Enqueue_copies_the_files_under_a_generated_id_with_a_manifest()
    {
        var sources = Sources(2);
        var uid = TestDicomFiles.SopInstanceUidOf(sources[0]);
        using var queue = Open();

        var item = await queue.EnqueueAsync("PACS", "job-42", sources, CancellationToken.None);

        item.Id.Should().MatchRegex("^[0-9a-f]{32}$");
        item.Destination.Should().Be("pacs", "the configured spelling is kept");
        item.Files.Select(f => f.Name).Should().Equal("0000.dcm", "0001.dcm");
        File.ReadAllBytes(queue.PathOf(item, item.Files[1])).Should().Equal(File.ReadAllBytes(sources[1]));
        File.Exists(Path.Combine(queue.PendingDirectory, item.Id, "manifest.json")).Should().BeTrue();
        sources.Should().OnlyContain(s => File.Exists(s), "the caller's files are copied, not moved");
        queue.PendingCount.Should().Be(1);
        Directory.EnumerateFileSystemEntries(queue.RootDirectory, "*", SearchOption.AllDirectories)
            .Should().NotContain(p => p.Contains(uid, StringComparison.Ordinal), "no path is built from a UID");
        File.ReadAllText(Path.Combine(queue.PendingDirectory, item.Id, "manifest.json")).Should().NotContain(uid).And.NotContain("EXPORT-TEST");
    }

    [Fact]
    public async Task Enqueue_refuses_unknown_destinations_bad_correlation_ids_and_empty_lists()
    {
        using var queue = Open();
        var sources = Sources(1);
        await FluentActions.Awaiting(() => queue.EnqueueAsync("nowhere", "c", sources, CancellationToken.None)).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => queue.EnqueueAsync("pacs", "bad\nid", sources, CancellationToken.None)).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => queue.EnqueueAsync("pacs", "c", [], CancellationToken.None)).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => queue.EnqueueAsync("pacs", "c", [_temp.Combine("missing.dcm")], CancellationToken.None)).Should().ThrowAsync<FileNotFoundException>();
        queue.ListPending().Should().BeEmpty();
        Directory.EnumerateFileSystemEntries(queue.StagingDirectory).Should().BeEmpty("a failed enqueue leaves nothing behind");
    }

    [Fact]
    public async Task A_new_queue_over_the_same_folder_sees_pending_and_parked_items_with_their_progress()
    {
        string pendingId, parkedId;
        using (var queue = Open())
        {
            var pending = await queue.EnqueueAsync("pacs", "a", Sources(2), CancellationToken.None);
            await queue.MarkDeliveredAsync(pending.Id, ["0000.dcm"], CancellationToken.None);
            await queue.RecordFailedRoundAsync(pending.Id, 3, "Cannot connect", DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken.None);
            var parked = await queue.EnqueueAsync("pacs", "b", Sources(1), CancellationToken.None);
            await queue.ParkAsync(parked.Id, ExportFailure.Permanent("SOP class not supported"), 1, CancellationToken.None);
            (pendingId, parkedId) = (pending.Id, parked.Id);
        }

        using var reopened = Open();
        reopened.PendingCount.Should().Be(1);
        var item = reopened.ListPending().Should().ContainSingle().Subject;
        item.Id.Should().Be(pendingId);
        item.Files.Select(f => f.Delivered).Should().Equal(true, false);
        item.Attempts.Should().Be(3);
        item.FailedRounds.Should().Be(1);
        item.LastError.Should().Be("Cannot connect");
        reopened.ListDue(DateTimeOffset.UtcNow).Should().BeEmpty("the next round is durable");
        var parkedItem = reopened.ListParked().Should().ContainSingle().Subject;
        parkedItem.Id.Should().Be(parkedId);
        parkedItem.Park!.Kind.Should().Be(ExportFailureKind.Permanent);
        parkedItem.Park.Reason.Should().Be("SOP class not supported");
    }

    [Fact]
    public async Task Park_writes_a_reason_and_retry_puts_the_item_back_due_now()
    {
        using var queue = Open();
        var item = await queue.EnqueueAsync("pacs", "c", Sources(1), CancellationToken.None);
        await queue.RecordFailedRoundAsync(item.Id, 2, "down", DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None);
        await queue.ParkAsync(item.Id, ExportFailure.Permanent("Association rejected permanently"), 1, CancellationToken.None);

        queue.PendingCount.Should().Be(0);
        var reason = Path.Combine(queue.ParkedDirectory, item.Id, "reason.json");
        using (var json = JsonDocument.Parse(File.ReadAllBytes(reason)))
        {
            json.RootElement.GetProperty("reason").GetString().Should().Be("Association rejected permanently");
            json.RootElement.GetProperty("kind").GetString().Should().Be("Permanent");
            json.RootElement.GetProperty("destination").GetString().Should().Be("pacs");
        }

        (await queue.RetryAsync(item.Id, CancellationToken.None)).Should().BeTrue();
        queue.ListParked().Should().BeEmpty();
        var back = queue.ListDue(DateTimeOffset.UtcNow.AddSeconds(1)).Should().ContainSingle().Subject;
        back.State.Should().Be(ExportItemState.Pending);
        back.Attempts.Should().Be(3, "history is kept");
        back.FailedRounds.Should().Be(0, "the backoff starts over");
        back.Park.Should().BeNull();
        File.Exists(Path.Combine(queue.PendingDirectory, item.Id, "reason.json")).Should().BeFalse();
        queue.PendingCount.Should().Be(1);

        (await queue.RetryAsync(item.Id, CancellationToken.None)).Should().BeFalse("it is no longer parked");
        (await queue.RetryAsync("../../etc", CancellationToken.None)).Should().BeFalse();
        (await queue.RetryAsync(Guid.NewGuid().ToString("N"), CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task Leftovers_of_an_interrupted_enqueue_or_delivery_are_cleaned_at_start()
    {
        string root;
        using (var queue = Open())
        {
            root = queue.RootDirectory;
            var delivered = await queue.EnqueueAsync("pacs", "d", Sources(1), CancellationToken.None);
            // A crash after the delivered item was moved out of pending/, before its deletion.
            Directory.Move(Path.Combine(queue.PendingDirectory, delivered.Id), Path.Combine(queue.DeliveredDirectory, delivered.Id));
            // A crash in the middle of an enqueue (the caller never got an id back).
            Directory.CreateDirectory(Path.Combine(queue.StagingDirectory, Guid.NewGuid().ToString("N")));
            File.WriteAllText(Path.Combine(queue.StagingDirectory, Directory.EnumerateDirectories(queue.StagingDirectory).Single(), "0000.dcm"), "half");
        }

        using var reopened = Open();
        Directory.EnumerateFileSystemEntries(Path.Combine(root, ".staging")).Should().BeEmpty();
        Directory.EnumerateFileSystemEntries(Path.Combine(root, ".delivered")).Should().BeEmpty();
        reopened.ListPending().Should().BeEmpty();
        reopened.PendingCount.Should().Be(0);
    }

    [Fact]
    public async Task A_park_or_retry_committed_in_the_manifest_but_not_moved_is_completed_at_start()
    {
        string parkedButNotMoved, retriedButNotMoved;
        using (var queue = Open())
        {
            var a = await queue.EnqueueAsync("pacs", "e", Sources(1), CancellationToken.None);
            await queue.ParkAsync(a.Id, ExportFailure.Permanent("x"), 0, CancellationToken.None);
            // Undo only the folder move: the manifest (the commit point) says parked.
            Directory.Move(Path.Combine(queue.ParkedDirectory, a.Id), Path.Combine(queue.PendingDirectory, a.Id));

            var b = await queue.EnqueueAsync("pacs", "f", Sources(1), CancellationToken.None);
            await queue.ParkAsync(b.Id, ExportFailure.Permanent("y"), 0, CancellationToken.None);
            await queue.RetryAsync(b.Id, CancellationToken.None);
            Directory.Move(Path.Combine(queue.PendingDirectory, b.Id), Path.Combine(queue.ParkedDirectory, b.Id));
            (parkedButNotMoved, retriedButNotMoved) = (a.Id, b.Id);
        }

        using var reopened = Open();
        reopened.ListParked().Select(i => i.Id).Should().Equal(parkedButNotMoved);
        File.Exists(Path.Combine(reopened.ParkedDirectory, parkedButNotMoved, "reason.json")).Should().BeTrue();
        reopened.ListPending().Select(i => i.Id).Should().Equal(retriedButNotMoved);
    }

    [Fact]
    public async Task An_item_with_a_damaged_manifest_is_kept_aside_not_deleted()
    {
        string id;
        using (var queue = Open())
        {
            id = (await queue.EnqueueAsync("pacs", "g", Sources(1), CancellationToken.None)).Id;
            File.WriteAllText(Path.Combine(queue.PendingDirectory, id, "manifest.json"), "{ not json");
        }

        using var reopened = Open();
        reopened.ListPending().Should().BeEmpty();
        File.Exists(Path.Combine(reopened.DamagedDirectory, id, "0000.dcm")).Should().BeTrue();
    }

    [Fact]
    public void Only_one_queue_owns_a_folder()
    {
        using var first = Open();
        FluentActions.Invoking(Open).Should().Throw<InvalidOperationException>().WithMessage("*in use by another exporter*");
    }
}
