using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Gateway.Retention;
using SpineSegDiff.Gateway.Tests.Support;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Gateway.Tests.Retention;

/// <summary>Retention over a real store, ages made with file timestamps and a fixed clock.</summary>
public sealed class RetentionServiceTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetentionOptions Options = new() { ReceivedInstances = TimeSpan.FromDays(7), Results = TimeSpan.FromDays(30) };

    private readonly TempDirectory _temp = new("spineseg-retention");
    private readonly InstanceStore _store;
    private readonly SeriesAssembler _assembler = new(new SeriesAssemblyOptions(), new FixedClock(Now));
    private readonly ExportQueue _queue;
    private readonly CapturingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;

    public RetentionServiceTests()
    {
        _store = new InstanceStore(new InstanceStoreOptions { RootDirectory = _temp.Combine("store"), FlushToDisk = false }, NullLogger<InstanceStore>.Instance);
        _queue = new ExportQueue(ExportTestOptions.Create(_temp.Combine("store", "exports"), ExportTestOptions.Folder("archive", _temp.Combine("archive"))),
            NullLogger<ExportQueue>.Instance, new FixedClock(Now));
        _loggers = _logs.CreateFactory();
    }

    public void Dispose()
    {
        _queue.Dispose();
        _loggers.Dispose();
        _logs.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public void Series_older_than_the_period_are_removed_with_their_empty_parents_and_younger_ones_kept()
    {
        var old = Series("1.2.840.1", "1.2.840.1.1", instances: 3, age: TimeSpan.FromDays(8));
        var sameStudyYoung = Series("1.2.840.1", "1.2.840.1.2", instances: 2, age: TimeSpan.FromDays(6));
        var otherStudyOld = Series("1.2.840.2", "1.2.840.2.1", instances: 1, age: TimeSpan.FromDays(7));

        var result = Service().RunOnce(CancellationToken.None);

        result.Should().Be(new RetentionPassResult(SeriesRemoved: 2, FilesRemoved: 4, ResultsRemoved: 0, SeriesKeptAssembling: 0, ResultsKeptForExport: 0, Failures: 0));
        Directory.Exists(old).Should().BeFalse();
        Directory.Exists(otherStudyOld).Should().BeFalse("exactly the period old is expired");
        Directory.GetFiles(sameStudyYoung).Should().HaveCount(2);
        Directory.Exists(Path.GetDirectoryName(old)).Should().BeTrue("the study folder still holds the young series");
        Directory.Exists(Path.GetDirectoryName(otherStudyOld)).Should().BeFalse("an emptied study folder goes too");
        Directory.Exists(_store.InstancesDirectory).Should().BeTrue();
    }

    [Fact]
    public void A_series_is_judged_by_its_newest_instance()
    {
        var folder = Series("1.2.840.1", "1.2.840.1.1", instances: 2, age: TimeSpan.FromDays(9));
        File.SetLastWriteTimeUtc(Directory.GetFiles(folder)[0], (Now - TimeSpan.FromDays(1)).UtcDateTime);

        Service().RunOnce(CancellationToken.None).SeriesRemoved.Should().Be(0);
        Directory.GetFiles(folder).Should().HaveCount(2);
    }

    [Fact]
    public void An_expired_series_still_being_assembled_is_kept()
    {
        var assembling = Series("1.2.840.1", "1.2.840.1.1", instances: 2, age: TimeSpan.FromDays(10));
        var done = Series("1.2.840.1", "1.2.840.1.2", instances: 2, age: TimeSpan.FromDays(10));
        var file = Directory.GetFiles(assembling)[0];
        _assembler.OnStored(new StoredInstance(file, "1.2.840.1", "1.2.840.1.1", "1.2.840.1.1.0", new DicomDataset(),
            new StoreRequestContext("PACS", "SEGNODE", new IPEndPoint(IPAddress.Loopback, 104), DicomUids.MRImageStorage, "1.2.840.1.1.0", DicomTransferSyntax.ExplicitVRLittleEndian, 1), false));

        var result = Service().RunOnce(CancellationToken.None);

        result.SeriesRemoved.Should().Be(1);
        result.SeriesKeptAssembling.Should().Be(1);
        Directory.GetFiles(assembling).Should().HaveCount(2);
        Directory.Exists(done).Should().BeFalse();
    }

    [Fact]
    public async Task Results_are_removed_after_their_period_unless_an_export_is_pending_or_parked()
    {
        var expired = Result(Guid.NewGuid(), TimeSpan.FromDays(31));
        var young = Result(Guid.NewGuid(), TimeSpan.FromDays(29));
        var pendingId = Guid.NewGuid();
        var pending = Result(pendingId, TimeSpan.FromDays(40));
        var parkedId = Guid.NewGuid();
        var parked = Result(parkedId, TimeSpan.FromDays(40));
        var notOurs = Path.Combine(_store.RootDirectory, RetentionService.ResultsFolder, "notes");
        Directory.CreateDirectory(notOurs);
        Directory.SetLastWriteTimeUtc(notOurs, (Now - TimeSpan.FromDays(100)).UtcDateTime);
        await _queue.EnqueueAsync("archive", pendingId.ToString(), Directory.GetFiles(pending), CancellationToken.None);
        var toPark = await _queue.EnqueueAsync("archive", parkedId.ToString(), Directory.GetFiles(parked), CancellationToken.None);
        await _queue.ParkAsync(toPark.Id, ExportFailure.Permanent("refused"), 1, CancellationToken.None);

        var result = Service().RunOnce(CancellationToken.None);

        result.ResultsRemoved.Should().Be(1);
        result.ResultsKeptForExport.Should().Be(2);
        Directory.Exists(expired).Should().BeFalse();
        new[] { young, pending, parked, notOurs }.Should().OnlyContain(d => Directory.Exists(d));
    }

    [Fact]
    public void The_pass_is_logged_with_counts_and_no_uids_at_information()
    {
        Series("1.2.840.77", "1.2.840.77.5", instances: 2, age: TimeSpan.FromDays(8));
        Result(Guid.NewGuid(), TimeSpan.FromDays(31));

        Service().RunOnce(CancellationToken.None);

        var line = _logs.Entries.Should().ContainSingle(e => e.EventId == 3440).Subject;
        line.Level.Should().Be(LogLevel.Information);
        line.Message.Should().StartWith("Retention: removed 1 received series (2 files) older than 7.00:00:00 and 1 results older than 30.00:00:00");
        _logs.Entries.Where(e => e.Level >= LogLevel.Information).Should().NotContain(e => e.Message.Contains("1.2.840.77", StringComparison.Ordinal));
    }

    [Fact]
    public void A_pass_with_nothing_to_do_logs_at_debug()
    {
        Series("1.2.840.1", "1.2.840.1.1", instances: 1, age: TimeSpan.FromHours(1));

        Service().RunOnce(CancellationToken.None).Should().Be(new RetentionPassResult(0, 0, 0, 0, 0, 0));
        _logs.Entries.Should().ContainSingle(e => e.EventId == 3440).Which.Level.Should().Be(LogLevel.Debug);
    }

    [Fact]
    public async Task The_hosted_service_runs_a_pass_at_start()
    {
        var old = Series("1.2.840.1", "1.2.840.1.1", instances: 1, age: TimeSpan.FromDays(8));
        using var service = Service();

        await service.StartAsync(CancellationToken.None);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (Directory.Exists(old) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
        Directory.Exists(old).Should().BeFalse();
    }

    [Fact]
    public void Options_are_validated()
    {
        new RetentionOptions().Validate().Should().BeEmpty();
        new RetentionOptions().ReceivedInstances.Should().Be(TimeSpan.FromDays(7));
        new RetentionOptions().Results.Should().Be(TimeSpan.FromDays(30));
        new RetentionOptions().ScanInterval.Should().Be(TimeSpan.FromHours(1));
        new RetentionOptions { ReceivedInstances = TimeSpan.FromMinutes(59) }.Validate().Should().ContainSingle().Which.Should().StartWith("Gateway:Retention:ReceivedInstances");
        new RetentionOptions { Results = TimeSpan.Zero }.Validate().Should().ContainSingle().Which.Should().StartWith("Gateway:Retention:Results");
        new RetentionOptions { ScanInterval = TimeSpan.FromDays(2) }.Validate().Should().ContainSingle().Which.Should().StartWith("Gateway:Retention:ScanInterval");
    }

    private RetentionService Service() =>
        new(_store, _assembler, _queue, Options, _loggers.CreateLogger<RetentionService>(), new FixedClock(Now));

    /// <summary>Instance files of one series where the store puts them, last written <paramref name="age"/> before now.</summary>
    private string Series(string study, string series, int instances, TimeSpan age)
    {
        string? folder = null;
        for (var i = 0; i < instances; i++)
        {
            var path = _store.PathFor(study, series, $"{series}.{i}");
            folder = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(path, [1, 2, 3, 4]);
            File.SetLastWriteTimeUtc(path, (Now - age).UtcDateTime);
        }
        return folder!;
    }

    private string Result(Guid correlationId, TimeSpan age)
    {
        var folder = Path.Combine(_store.RootDirectory, RetentionService.ResultsFolder, correlationId.ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "previews"));
        foreach (var name in new[] { "seg.dcm", Path.Combine("previews", "overlay.png") })
        {
            var path = Path.Combine(folder, name);
            File.WriteAllBytes(path, [1, 2, 3, 4]);
            File.SetLastWriteTimeUtc(path, (Now - age).UtcDateTime);
        }
        return folder;
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
