using System.Reflection;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Contracts.V1;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Jobs;
using SpineSegDiff.Gateway.Routing;
using SpineSegDiff.Gateway.Tests.Support;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Gateway.Tests.Assembly;

/// <summary>From a complete series to a published job (or a "not routed" line), per the AE title it was sent to.</summary>
public sealed class SeriesAssemblyServiceTests : IDisposable
{
    private static readonly SeriesAssemblyOptions Options = new() { QuietPeriod = TimeSpan.FromSeconds(10), MaxAssemblyTime = TimeSpan.FromMinutes(5) };

    private static readonly RoutingOptions Routing = new()
    {
        Rules =
        [
            new RoutingRule { Name = "sag-t2", BodyParts = ["LSPINE"], Weighting = Weighting.T2, Profile = "fast", Destinations = ["pacs"] },
            new RoutingRule { Name = "sag-t1", BodyParts = ["LSPINE"], Weighting = Weighting.T1, Profile = "paper", Destinations = ["pacs"] },
        ],
    };

    private readonly TempDirectory _temp = new("spineseg-assembly-service");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_series_is_routed_by_the_rules_of_the_ae_title_it_came_to_and_otherwise_logged_as_not_routed()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        var titles = new DicomServerOptions
        {
            AeTitles = [new CalledAeTitleOptions { AeTitle = "SEGT2", Rules = ["sag-t2"] }, new CalledAeTitleOptions { AeTitle = "SEGT1", Rules = ["sag-t1"] }],
        }.ResolvedAeTitles();
        var publisher = RecordingPublisher.Create();
        using var logs = new CapturingLoggerProvider();
        using var factory = logs.CreateFactory();
        var service = new SeriesAssemblyService(assembler, new SeriesRouter(Routing, new CalledAeRules(titles)), Options, Store(),
            (IPublishEndpoint)publisher, Journal(), resumeUnansweredJobs: true, factory.CreateLogger<SeriesAssemblyService>(), clock);

        // The same T2 series sent to both titles: SEGT2 segments it, SEGT1 (T1 rules only) does not.
        for (var i = 1; i <= 6; i++)
        {
            assembler.OnStored(SeriesAssemblerTests.Stored("1.2.3", $"1.2.3.{i}", association: 1, header: T2Header(), calledAe: "SEGT2"));
            assembler.OnStored(SeriesAssemblerTests.Stored("1.2.3", $"1.2.3.{i}", association: 2, header: T2Header(), calledAe: "SEGT1"));
        }
        clock.Offset = TimeSpan.FromSeconds(11);
        await service.PublishCompleteAsync(CancellationToken.None);

        var job = ((RecordingPublisher)publisher).Published.Should().ContainSingle().Which.Should().BeOfType<SegmentationRequested>().Subject;
        job.RuleName.Should().Be("sag-t2");
        job.InstancePaths.Should().HaveCount(6);
        var routed = logs.Entries.Should().ContainSingle(e => e.EventId == 3401).Subject;
        routed.Message.Should().Contain("(6 instances from PACS) on SEGT2 routed by rule sag-t2");
        var notRouted = logs.Entries.Should().ContainSingle(e => e.EventId == 3402).Subject;
        notRouted.Level.Should().Be(LogLevel.Information);
        notRouted.Message.Should().Contain("(6 instances from PACS) on SEGT1 not routed").And.Contain("not routed: sag-t1: weighting T2, not T1; rules [sag-t2] do not apply to this AE title")
            .And.Contain("kept until retention removes it").And.NotContain("1.2.3", "no UIDs in Information logs");
    }

    [Fact]
    public async Task A_job_is_journaled_before_it_is_published_and_published_again_after_a_restart_on_the_in_memory_bus()
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock);
        var first = RecordingPublisher.Create();
        var service = Service(assembler, first, resume: true, clock);
        for (var i = 1; i <= 6; i++)
        {
            assembler.OnStored(SeriesAssemblerTests.Stored("1.2.3", $"1.2.3.{i}", association: 1, header: T2Header()));
        }
        clock.Offset = TimeSpan.FromSeconds(11);
        await service.PublishCompleteAsync(CancellationToken.None);
        var job = (SegmentationRequested)((RecordingPublisher)first).Published.Should().ContainSingle().Subject;
        Journal().Open().Should().ContainSingle().Which.CorrelationId.Should().Be(job.CorrelationId, "recorded before it was published");

        // The process stops before any answer: the next start publishes the same job again, once.
        var afterRestart = RecordingPublisher.Create();
        var restarted = Service(new SeriesAssembler(Options, clock), afterRestart, resume: true, clock);
        restarted.ResumeAfterRestart();
        await restarted.PublishCompleteAsync(CancellationToken.None);
        await restarted.PublishCompleteAsync(CancellationToken.None);
        var again = (SegmentationRequested)((RecordingPublisher)afterRestart).Published.Should().ContainSingle().Subject;
        again.Should().BeEquivalentTo(job, "the same job: same correlation id, instances, rule and destinations");

        // On RabbitMQ the broker keeps the message: nothing is published twice.
        var onBroker = RecordingPublisher.Create();
        var gateway = Service(new SeriesAssembler(Options, clock), onBroker, resume: false, clock);
        gateway.ResumeAfterRestart();
        await gateway.PublishCompleteAsync(CancellationToken.None);
        ((RecordingPublisher)onBroker).Published.Should().BeEmpty();

        // Once answered, a job is not resumed.
        Journal().Complete(job.CorrelationId);
        var answered = RecordingPublisher.Create();
        var later = Service(new SeriesAssembler(Options, clock), answered, resume: true, clock);
        later.ResumeAfterRestart();
        await later.PublishCompleteAsync(CancellationToken.None);
        ((RecordingPublisher)answered).Published.Should().BeEmpty();
    }

    [Fact]
    public async Task Series_still_being_assembled_at_a_stop_are_assembled_again_after_the_next_start()
    {
        var clock = new ShiftedTimeProvider();
        var store = Store();
        var assembler = new SeriesAssembler(Options, clock);
        var service = Service(assembler, RecordingPublisher.Create(), resume: true, clock);
        for (var i = 1; i <= 6; i++)
        {
            var stored = SeriesAssemblerTests.Stored("1.2.3", $"1.2.3.{i}", association: 1, header: T2Header(), calledAe: "SEGT2");
            var path = store.PathFor(stored.StudyInstanceUid, stored.SeriesInstanceUid, stored.SopInstanceUid);
            var dataset = T2Header().SetString(DicomTags.SOPClassUID, DicomUids.MRImageStorage).SetString(DicomTags.SOPInstanceUID, stored.SopInstanceUid);
            DicomFile.Create(dataset, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
            assembler.OnStored(stored with { Path = path });
        }
        clock.Offset = TimeSpan.FromSeconds(3);
        await service.KeepAssemblingAsync(CancellationToken.None);
        assembler.PendingCount.Should().Be(0);

        var publisher = RecordingPublisher.Create();
        var restartedAssembler = new SeriesAssembler(Options, clock);
        var restarted = Service(restartedAssembler, publisher, resume: true, clock);
        restarted.ResumeAfterRestart();
        restartedAssembler.PendingCount.Should().Be(1);
        await restarted.PublishCompleteAsync(CancellationToken.None);
        ((RecordingPublisher)publisher).Published.Should().BeEmpty("the quiet period has not passed since the last instance");

        clock.Offset = TimeSpan.FromSeconds(11);
        await restarted.PublishCompleteAsync(CancellationToken.None);
        var job = (SegmentationRequested)((RecordingPublisher)publisher).Published.Should().ContainSingle().Subject;
        job.InstancePaths.Should().HaveCount(6).And.OnlyContain(p => !Path.IsPathRooted(p));
        job.RuleName.Should().Be("sag-t2");
        Directory.EnumerateFiles(Journal().AssemblingDirectory).Should().BeEmpty("taken back at the start");
    }

    private SeriesAssemblyService Service(SeriesAssembler assembler, object publisher, bool resume, TimeProvider clock) =>
        new(assembler, new SeriesRouter(Routing), Options, Store(), (IPublishEndpoint)publisher, Journal(), resume, NullLogger<SeriesAssemblyService>.Instance, clock);

    private JobJournal Journal() => new(_temp.Combine("store"), NullLogger<JobJournal>.Instance);

    private InstanceStore Store() =>
        new(new InstanceStoreOptions { RootDirectory = _temp.Combine("store"), FlushToDisk = false }, NullLogger<InstanceStore>.Instance);

    private static DicomDataset T2Header()
    {
        var ds = new DicomDataset();
        ds.SetString(DicomTags.Modality, "MR");
        ds.SetString(DicomTags.SeriesDescription, "SAG T2 TSE");
        ds.SetString(DicomTags.BodyPartExamined, "LSPINE");
        ds.SetDecimalString(DicomTags.ImageOrientationPatient, [0, 1, 0, 0, 0, -1]);
        return ds;
    }

    /// <summary>An <see cref="IPublishEndpoint"/> that records what is published (only Publish is called by the service).</summary>
    public class RecordingPublisher : DispatchProxy
    {
        public List<object> Published { get; } = [];

        public static object Create() => Create<IPublishEndpoint, RecordingPublisher>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name == nameof(IPublishEndpoint.Publish) && args is [{ } message, ..])
            {
                lock (Published)
                {
                    Published.Add(message);
                }
                return Task.CompletedTask;
            }
            throw new NotSupportedException(targetMethod?.Name);
        }
    }
}
