using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Network;

/// <summary>
/// The Storage SCP's spans, audit events and counters (ActivitySource and Meter "SpineSegDiff.Dicom") for an accepted
/// and a rejected association. Listeners are process-wide, so each test picks out its own by a calling AE title of its own.
/// </summary>
public sealed class ScpTelemetryTests : IDisposable
{
    private const int TestTimeout = 90_000;
    private readonly ITestOutputHelper _output;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters = new();

    public ScpTelemetryTests(ITestOutputHelper output)
    {
        _output = output;
        _activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == DicomServerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_activities);
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DicomServerTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        _meters.Start();
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }

    [Fact(Timeout = TestTimeout)]
    public async Task An_accepted_association_is_a_span_with_one_child_per_C_STORE_an_audit_event_and_counters_by_calling_AE()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Path, count: 2, rows: 16, cols: 16);
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), _output);
        var scu = new StorageScu(TestServers.Client(server, c => c.CallingAeTitle = "TELOK"), new TestOutputLoggerFactory(_output));

        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        results.Should().OnlyContain(r => r.Succeeded);
        (await TestServers.EventuallyAsync(() => Association("TELOK") is not null, TimeSpan.FromSeconds(10))).Should().BeTrue();

        var association = Association("TELOK")!;
        association.Kind.Should().Be(ActivityKind.Server);
        association.GetTagItem("dicom.called_ae_title").Should().Be("SEGNODE");
        association.GetTagItem("dicom.association.result").Should().Be("accepted");
        var accepted = association.Events.Should().ContainSingle(e => e.Name == "audit.association.accepted").Subject;
        accepted.Tags.Should().Contain(new KeyValuePair<string, object?>("network.peer.address", "127.0.0.1"));
        var stores = _stopped.Where(a => a.OperationName == "dicom.c-store" && a.ParentSpanId == association.SpanId).ToList();
        stores.Should().HaveCount(2).And.OnlyContain(s => (string?)s.GetTagItem("dicom.status") == "0x0000" && s.Status != ActivityStatusCode.Error);
        _measurements.Where(m => m.Instrument == "spineseg.dicom.instances.received" && (string?)m.Tags["dicom.calling_ae_title"] == "TELOK")
            .Sum(m => m.Value).Should().Be(2);
        _measurements.Should().Contain(m => m.Instrument == "spineseg.dicom.associations.accepted" && (string?)m.Tags["dicom.calling_ae_title"] == "TELOK");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_rejected_association_is_audited_with_its_reason_and_counted()
    {
        using var temp = new TempDirectory("spineseg-net");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Path, count: 1, rows: 16, cols: 16);
        await using var server = await TestServers.StartAsync(new DirectorySink(temp.Path), _output);
        var scu = new StorageScu(TestServers.Client(server, c => { c.CallingAeTitle = "TELREJ"; c.CalledAeTitle = "WRONG"; }), new TestOutputLoggerFactory(_output));

        await scu.SendAsync(manifest.Files.Select(f => f.Path), new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        (await TestServers.EventuallyAsync(() => Association("TELREJ") is not null, TimeSpan.FromSeconds(10))).Should().BeTrue();

        var association = Association("TELREJ")!;
        association.GetTagItem("dicom.association.result").Should().Be("rejected");
        var rejected = association.Events.Should().ContainSingle(e => e.Name == "audit.association.rejected").Subject;
        var tags = rejected.Tags.ToDictionary(t => t.Key, t => t.Value);
        tags["dicom.called_ae_title"].Should().Be("WRONG");
        ((string?)tags["spineseg.reason"]).Should().StartWith("Permanent/ServiceUser/");
        _measurements.Should().Contain(m => m.Instrument == "spineseg.dicom.associations.rejected" && ((string?)m.Tags["reason"])!.StartsWith("Permanent/ServiceUser/", StringComparison.Ordinal));
    }

    private Activity? Association(string callingAe) =>
        _stopped.FirstOrDefault(a => a.OperationName == "dicom.association" && (string?)a.GetTagItem("dicom.calling_ae_title") == callingAe);
}
