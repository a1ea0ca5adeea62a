using System.Net;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Tests.Support;

namespace SpineSegDiff.Gateway.Tests.Assembly;

public sealed class SeriesAssemblerTests
{
    private static readonly SeriesAssemblyOptions Options = new() { QuietPeriod = TimeSpan.FromSeconds(10), MaxAssemblyTime = TimeSpan.FromMinutes(5) };

    [Fact]
    public void A_series_completes_after_the_quiet_period_with_each_instance_once()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        assembler.OnStored(Stored("1.2.3", "1.2.3.1", association: 1));
        assembler.OnStored(Stored("1.2.3", "1.2.3.2", association: 1));
        clock.Offset = TimeSpan.FromSeconds(9);
        assembler.OnStored(Stored("1.2.3", "1.2.3.1", association: 2, duplicate: true));

        assembler.TakeComplete().Should().BeEmpty("9 s after the first instances");
        clock.Offset = TimeSpan.FromSeconds(10.5);
        var complete = assembler.TakeComplete().Should().ContainSingle().Subject;

        complete.InstancePaths.Should().Equal("/store/1.2.3.1.dcm", "/store/1.2.3.2.dcm");
        complete.Watchdog.Should().BeFalse();
        assembler.PendingCount.Should().Be(0);
        assembler.TakeComplete().Should().BeEmpty("a series is handed out once");
    }

    [Fact]
    public void A_new_instance_restarts_the_quiet_period()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        assembler.OnStored(Stored("1.2.3", "1.2.3.1", association: 1));
        clock.Offset = TimeSpan.FromSeconds(8);
        assembler.OnStored(Stored("1.2.3", "1.2.3.2", association: 1));
        clock.Offset = TimeSpan.FromSeconds(12);

        assembler.TakeComplete().Should().BeEmpty("the last instance came 4 s ago");
        clock.Offset = TimeSpan.FromSeconds(18.5);
        assembler.TakeComplete().Should().ContainSingle().Which.InstancePaths.Should().HaveCount(2);
    }

    [Theory]
    [InlineData(true, AssociationEndReason.Released, true)]
    [InlineData(true, AssociationEndReason.AbortedByPeer, false)]
    [InlineData(false, AssociationEndReason.Released, false)]
    public void Release_completes_the_series_of_that_association_only_when_configured(bool onRelease, AssociationEndReason reason, bool complete)
    {
        var options = new SeriesAssemblyOptions { QuietPeriod = TimeSpan.FromSeconds(10), CompleteOnAssociationRelease = onRelease };
        var assembler = new SeriesAssembler(options, new ShiftedTimeProvider());
        assembler.OnStored(Stored("1.2.3", "1.2.3.1", association: 7));
        assembler.OnStored(Stored("1.2.4", "1.2.4.1", association: 8));

        assembler.OnAssociationEnded(Ended(7, reason));

        assembler.TakeComplete().Select(s => s.SeriesInstanceUid).Should().Equal(complete ? ["1.2.3"] : []);
    }

    [Fact]
    public void The_watchdog_completes_a_series_that_never_goes_quiet()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        for (var second = 0; second <= 300; second += 5)
        {
            clock.Offset = TimeSpan.FromSeconds(second);
            assembler.OnStored(Stored("1.2.3", $"1.2.3.{second}", association: 1));
            var taken = assembler.TakeComplete();
            if (taken.Count > 0)
            {
                taken.Should().ContainSingle().Which.Watchdog.Should().BeTrue();
                second.Should().Be(300);
                return;
            }
        }
        Assert.Fail("the watchdog never completed the series");
    }

    [Fact]
    public void A_restored_series_keeps_its_instances_and_what_arrived_since()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        assembler.OnStored(Stored("1.2.3", "1.2.3.1", association: 1));
        clock.Offset = TimeSpan.FromSeconds(11);
        var taken = assembler.TakeComplete().Single();
        assembler.OnStored(Stored("1.2.3", "1.2.3.2", association: 2));

        assembler.Restore(taken);
        clock.Offset = TimeSpan.FromSeconds(30);

        assembler.TakeComplete().Single().InstancePaths.Should().BeEquivalentTo("/store/1.2.3.1.dcm", "/store/1.2.3.2.dcm");
    }

    [Fact]
    public void A_series_keeps_the_ae_title_it_was_sent_to_and_each_title_assembles_its_own()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        assembler.OnStored(Stored("1.2.3", "1.2.3.1", association: 1, calledAe: "SEGNODE"));
        assembler.OnStored(Stored("1.2.3", "1.2.3.2", association: 1, calledAe: "SEGNODE"));
        assembler.OnStored(Stored("1.2.3", "1.2.3.1", association: 2, duplicate: true, calledAe: "SEGFIX "));

        clock.Offset = TimeSpan.FromSeconds(11);
        var complete = assembler.TakeComplete();

        complete.Select(s => (s.CalledAeTitle, s.InstancePaths.Count)).Should().BeEquivalentTo([("SEGNODE", 2), ("SEGFIX", 1)]);
        complete.Should().OnlyContain(s => s.SeriesInstanceUid == "1.2.3");
    }

    [Fact]
    public void A_restored_series_keeps_its_ae_title()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        assembler.OnStored(Stored("1.2.3", "1.2.3.1", association: 1, calledAe: "SEGFIX"));
        clock.Offset = TimeSpan.FromSeconds(11);
        assembler.Restore(assembler.TakeComplete().Single());
        assembler.OnStored(Stored("1.2.3", "1.2.3.2", association: 2, calledAe: "SEGFIX"));
        clock.Offset = TimeSpan.FromSeconds(30);

        var again = assembler.TakeComplete().Should().ContainSingle().Subject;
        again.CalledAeTitle.Should().Be("SEGFIX");
        again.InstancePaths.Should().HaveCount(2, "the restored series and the new instance are one assembly");
    }

    [Fact]
    public void The_folders_of_series_being_assembled_are_reported_until_they_complete()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        assembler.OnStored(new StoredInstance("/store/a/s1/1.dcm", "1.2", "1.2.3", "1.2.3.1", new DicomDataset(), Context("SEGNODE", 1), false));
        assembler.OnStored(new StoredInstance("/store/a/s2/1.dcm", "1.2", "1.2.4", "1.2.4.1", new DicomDataset(), Context("SEGNODE", 1), false));

        assembler.PendingSeriesDirectories().Should().BeEquivalentTo("/store/a/s1", "/store/a/s2");
        clock.Offset = TimeSpan.FromSeconds(11);
        assembler.TakeComplete();
        assembler.PendingSeriesDirectories().Should().BeEmpty();
    }

    [Fact]
    public void Options_out_of_range_are_reported()
    {
        new SeriesAssemblyOptions().Validate().Should().BeEmpty();
        new SeriesAssemblyOptions { QuietPeriod = TimeSpan.Zero }.Validate().Should().Contain(e => e.Contains("QuietPeriod"));
        new SeriesAssemblyOptions { MaxAssemblyTime = TimeSpan.FromSeconds(5) }.Validate().Should().Contain(e => e.Contains("MaxAssemblyTime"));
        new SeriesAssemblyOptions { PollInterval = TimeSpan.FromMinutes(1) }.Validate().Should().Contain(e => e.Contains("PollInterval"));
    }

    internal static StoredInstance Stored(string series, string instance, long association, bool duplicate = false, DicomDataset? header = null, string calledAe = "SEGNODE") =>
        new($"/store/{instance}.dcm", "1.2", series, instance, header ?? new DicomDataset(), Context(calledAe, association, instance), duplicate);

    private static StoreRequestContext Context(string calledAe, long association, string instance = "1.2.3.1") =>
        new("PACS", calledAe, new IPEndPoint(IPAddress.Loopback, 1000), DicomUids.MRImageStorage, instance, DicomTransferSyntax.ExplicitVRLittleEndian, association);

    private static AssociationEndedEventArgs Ended(long id, AssociationEndReason reason) => new()
    {
        AssociationId = id,
        CallingAeTitle = "PACS",
        CalledAeTitle = "SEGNODE",
        StartedAt = DateTimeOffset.UnixEpoch,
        EndedAt = DateTimeOffset.UnixEpoch,
        Reason = reason,
        Instances = [],
    };
}
