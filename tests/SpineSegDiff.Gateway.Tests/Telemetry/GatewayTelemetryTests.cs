using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Jobs;
using SpineSegDiff.Gateway.Routing;
using SpineSegDiff.Gateway.Telemetry;
using SpineSegDiff.Gateway.Tests.Assembly;
using SpineSegDiff.Gateway.Tests.Support;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Telemetry;

namespace SpineSegDiff.Gateway.Tests.Telemetry;

/// <summary>The routing span and its audit event, in process: parent link, rule, patient data only on the operator's option, hashed UIDs.</summary>
public sealed class GatewayTelemetryTests : IDisposable
{
    private static readonly SeriesAssemblyOptions Options = new() { QuietPeriod = TimeSpan.FromSeconds(10), MaxAssemblyTime = TimeSpan.FromMinutes(5) };

    private static readonly RoutingOptions Routing = new()
    {
        Rules = [new RoutingRule { Name = "sag-t2", BodyParts = ["LSPINE"], Weighting = Weighting.T2, Profile = "fast", Destinations = ["pacs"] }],
    };

    private readonly TempDirectory _temp = new("spineseg-gateway-telemetry");
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public GatewayTelemetryTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is TelemetryNames.Gateway or "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task The_routing_span_continues_the_association_trace_and_audits_the_rule_without_patient_data_by_default()
    {
        var series = UniqueSeries();
        var (route, associationContext) = await RouteAsync(series, new TelemetryOptions());

        route.ParentSpanId.Should().Be(associationContext.SpanId);
        route.TraceId.Should().Be(associationContext.TraceId);
        var audit = route.Events.Should().ContainSingle(e => e.Name == "audit.routing.decision").Subject;
        var tags = audit.Tags.ToDictionary(t => t.Key, t => t.Value);
        tags[TelemetryAttributes.Rule].Should().Be("sag-t2");
        tags[TelemetryAttributes.SeriesUid].Should().Be(series);
        tags.Keys.Should().NotContain([TelemetryAttributes.PatientName, TelemetryAttributes.PatientId, TelemetryAttributes.PatientBirthDate, TelemetryAttributes.AccessionNumber]);
        route.TagObjects.Select(t => t.Value?.ToString()).Should().NotContain(["DOE^JANE", "PID42", "19500101", "ACC9"]);
        _stopped.Where(a => a.TraceId == associationContext.TraceId && a.OperationName == "series.assembly").Should().ContainSingle();
    }

    [Fact]
    public async Task IncludePatientData_adds_the_patient_and_HashUids_replaces_every_uid_by_a_stable_hash()
    {
        var series = UniqueSeries();
        var options = new TelemetryOptions { IncludePatientData = true, HashUids = true };
        var (route, _) = await RouteAsync(series, options);

        var tags = route.Events.Single(e => e.Name == "audit.routing.decision").Tags.ToDictionary(t => t.Key, t => t.Value);
        tags[TelemetryAttributes.PatientName].Should().Be("DOE^JANE");
        tags[TelemetryAttributes.PatientId].Should().Be("PID42");
        tags[TelemetryAttributes.PatientBirthDate].Should().Be("19500101");
        tags[TelemetryAttributes.AccessionNumber].Should().Be("ACC9");
        tags[TelemetryAttributes.SeriesUid].Should().Be(options.Uid(series)).And.NotBe(series);
        ((string)tags[TelemetryAttributes.SeriesUid]!).Should().MatchRegex("^[0-9a-f]{32}$");
        options.Uid(series).Should().Be(new TelemetryOptions { HashUids = true }.Uid(series), "equal UIDs hash equally, so a study stays queryable");
        new TelemetryOptions { HashUids = true, UidHashSalt = "other" }.Uid(series).Should().NotBe(options.Uid(series));
    }

    [Fact]
    public void An_empty_salt_with_HashUids_is_a_configuration_error()
    {
        new TelemetryOptions { HashUids = true, UidHashSalt = "" }.Validate().Should().ContainSingle().Which.Should().Contain("Telemetry:UidHashSalt");
        new TelemetryOptions().Validate().Should().BeEmpty();
    }

    private static string UniqueSeries() => "1.2.999." + Random.Shared.Next(1, int.MaxValue).ToString(CultureInfo.InvariantCulture);

    /// <summary>Stores a 6-instance T2 series under an "association" span, completes and routes it; returns the route span.</summary>
    private async Task<(Activity Route, ActivityContext Association)> RouteAsync(string series, TelemetryOptions options)
    {
        var clock = new ShiftedTimeProvider();
        var assembler = new SeriesAssembler(Options, clock, options);
        using var telemetry = new GatewayTelemetry(options);
        var store = new InstanceStore(new InstanceStoreOptions { RootDirectory = _temp.Combine("store"), FlushToDisk = false }, NullLogger<InstanceStore>.Instance);
        var service = new SeriesAssemblyService(assembler, new SeriesRouter(Routing), Options, store,
            (IPublishEndpoint)SeriesAssemblyServiceTests.RecordingPublisher.Create(), new JobJournal(_temp.Combine("store"), NullLogger<JobJournal>.Instance),
            resumeUnansweredJobs: true, NullLogger<SeriesAssemblyService>.Instance, clock, telemetry);

        using var source = new ActivitySource("test");
        ActivityContext association;
        using (var activity = source.StartActivity("association", ActivityKind.Server, parentContext: default))
        {
            activity.Should().NotBeNull();
            association = activity!.Context;
            for (var i = 1; i <= 6; i++)
            {
                assembler.OnStored(SeriesAssemblerTests.Stored(series, $"{series}.{i}", association: 1, header: Header()));
            }
        }
        StoredEvents(association).Should().HaveCount(6, "one instance-stored audit event per instance");
        clock.Offset = TimeSpan.FromSeconds(11);
        await service.PublishCompleteAsync(CancellationToken.None);
        var route = _stopped.Should().ContainSingle(a => a.OperationName == "series.route" && a.TraceId == association.TraceId).Subject;
        return (route, association);
    }

    private IEnumerable<ActivityEvent> StoredEvents(ActivityContext association) =>
        _stopped.Where(a => a.SpanId == association.SpanId).SelectMany(a => a.Events).Where(e => e.Name == "audit.instance.stored");

    private static DicomDataset Header()
    {
        var ds = new DicomDataset();
        ds.SetString(DicomTags.Modality, "MR");
        ds.SetString(DicomTags.SeriesDescription, "SAG T2 TSE");
        ds.SetString(DicomTags.BodyPartExamined, "LSPINE");
        ds.SetDecimalString(DicomTags.ImageOrientationPatient, [0, 1, 0, 0, 0, -1]);
        ds.SetString(DicomTags.PatientName, "DOE^JANE");
        ds.SetString(DicomTags.PatientID, "PID42");
        ds.SetString(DicomTags.PatientBirthDate, "19500101");
        ds.SetString(DicomTags.AccessionNumber, "ACC9");
        return ds;
    }
}
