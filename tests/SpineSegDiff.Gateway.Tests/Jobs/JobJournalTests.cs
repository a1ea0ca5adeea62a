using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Gateway.Jobs;

namespace SpineSegDiff.Gateway.Tests.Jobs;

public sealed class JobJournalTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "spineseg-journal-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task A_recorded_job_is_open_in_a_new_journal_until_completed()
    {
        var job = Job(DateTimeOffset.UnixEpoch.AddHours(2));
        var older = Job(DateTimeOffset.UnixEpoch.AddHours(1));
        var journal = new JobJournal(_root, NullLogger<JobJournal>.Instance);
        await journal.RecordAsync(job, CancellationToken.None);
        await journal.RecordAsync(older, CancellationToken.None);

        // A new process reads what the old one wrote.
        var reopened = new JobJournal(_root, NullLogger<JobJournal>.Instance);
        var open = reopened.Open();
        open.Select(j => j.CorrelationId).Should().Equal([older.CorrelationId, job.CorrelationId], "oldest first");
        open[1].InstancePaths.Should().Equal(job.InstancePaths);
        open[1].Destinations.Should().Equal(job.Destinations);
        reopened.IsOpen(job.CorrelationId).Should().BeTrue();

        reopened.Complete(job.CorrelationId);
        reopened.Complete(job.CorrelationId);
        reopened.IsOpen(job.CorrelationId).Should().BeFalse();
        new JobJournal(_root, NullLogger<JobJournal>.Instance).Open().Should().ContainSingle().Which.CorrelationId.Should().Be(older.CorrelationId);
    }

    [Fact]
    public async Task An_unreadable_record_is_set_aside_not_replayed_and_not_fatal()
    {
        var journal = new JobJournal(_root, NullLogger<JobJournal>.Instance);
        var job = Job(DateTimeOffset.UnixEpoch);
        await journal.RecordAsync(job, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(journal.Directory, Guid.NewGuid().ToString("N") + ".json"), "{ truncated");

        journal.Open().Should().ContainSingle().Which.CorrelationId.Should().Be(job.CorrelationId);
        Directory.EnumerateFiles(journal.Directory, "*.damaged").Should().ContainSingle();
        journal.Open().Should().ContainSingle("the damaged record stays aside");
    }

    private static SegmentationRequested Job(DateTimeOffset requestedAt) => new(
        Guid.NewGuid(), "1.2.3", "1.2.3.4", ["instances/ab/cd/1.dcm", "instances/ab/cd/2.dcm"], "rule", "fast", ["pacs"], "PACS", requestedAt, requestedAt);
}
