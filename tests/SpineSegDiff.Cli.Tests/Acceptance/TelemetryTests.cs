using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// OpenTelemetry end to end: gateway and worker as separate processes on a real RabbitMQ export OTLP/HTTP to a
/// collector in the test. One study is one trace across both processes, with the audit events as span events, and
/// no patient data leaves the node unless the operator switched Telemetry:IncludePatientData on.
/// </summary>
public sealed partial class TelemetryTests(ITestOutputHelper output)
{
    // Distinctive values written into the phantom: found nowhere by chance.
    private const string PatientName = "QXZTELEMETRY^WYVERN";
    private const string PatientNameFamily = "QXZTELEMETRY";
    private const string PatientId = "PID-7Q3X9KZ";
    private const string BirthDate = "19230417";
    private const string Accession = "ACC5Z8W2Q";

    [Fact(Timeout = 480_000)]
    public async Task One_study_through_gateway_and_worker_is_one_trace_with_audit_events_and_no_patient_data()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await using var setup = await TelemetryNode.StartAsync(output, includePatientData: false, worker: true, cts.Token);

        var clock = Stopwatch.StartNew();
        var studyUid = await NodeScenario.RouteToNodeAsync(setup.Pacs, setup.Study, cts.Token);
        await NodeScenario.WaitForResultsAsync(setup.Pacs, studyUid, 4, TimeSpan.FromMinutes(4), cts.Token, setup.Diagnostics);
        output.WriteLine($"results in the PACS after {clock.Elapsed.TotalSeconds:F1} s");
        var job = JobStarted().Match(setup.Worker!.Output).Groups["job"].Value;
        job.Should().NotBeEmpty(setup.Diagnostics());

        // Spans are batched (OTEL_BSP_SCHEDULE_DELAY 200 ms in this test): wait for the export's last attempt span.
        IReadOnlyList<OtlpSpan> spans = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            spans = setup.Receiver.Spans();
            if (spans.Any(s => s.Name == "export.delivery" && s.Tag("spineseg.correlation_id") == job && s.Events.Any(e => e.Name == "audit.export.delivered")))
            {
                break;
            }
            await Task.Delay(200, cts.Token);
        }

        var jobSpan = spans.Should().ContainSingle(s => s.Name == "segmentation.job" && s.Tag("spineseg.correlation_id") == job, setup.Describe(spans)).Subject;
        jobSpan.Service.Should().Be("spineseg-worker");
        var trace = spans.Where(s => s.TraceId == jobSpan.TraceId).ToList();
        output.WriteLine(setup.Describe(trace));
        var byId = trace.ToDictionary(s => s.SpanId);
        IEnumerable<OtlpSpan> Ancestors(OtlpSpan span)
        {
            while (byId.TryGetValue(span.ParentSpanId, out var parent))
            {
                yield return parent;
                span = parent;
            }
        }

        // Both processes in the trace, rooted at the association that brought the study.
        trace.Select(s => s.Service).Distinct().Should().BeEquivalentTo(["spineseg-gateway", "spineseg-worker"]);
        var association = trace.Should().ContainSingle(s => s.Name == "dicom.association").Subject;
        association.ParentSpanId.Should().BeEmpty("the association is the study's root span");
        association.Tag("dicom.calling_ae_title").Should().Be(setup.Pacs.AeTitle);
        association.Events.Should().Contain(e => e.Name == "audit.association.accepted" && (string?)e.Attributes["network.peer.address"] == "127.0.0.1");
        association.Events.Count(e => e.Name == "audit.instance.stored").Should().Be(setup.Study.Count);
        association.Events.Where(e => e.Name == "audit.instance.stored").Should().OnlyContain(e => (string?)e.Attributes["dicom.study_instance_uid"] == studyUid);
        trace.Count(s => s.Name == "dicom.c-store").Should().Be(setup.Study.Count);
        trace.Where(s => s.Name == "dicom.c-store").Should().OnlyContain(s => s.ParentSpanId == association.SpanId);

        var assembly = trace.Should().ContainSingle(s => s.Name == "series.assembly").Subject;
        assembly.ParentSpanId.Should().Be(association.SpanId);
        var route = trace.Should().ContainSingle(s => s.Name == "series.route").Subject;
        route.ParentSpanId.Should().Be(association.SpanId);
        var decision = route.Events.Should().ContainSingle(e => e.Name == "audit.routing.decision").Subject;
        decision.Attributes["spineseg.rule"].Should().Be("sagittal-lumbar-mr");
        decision.Attributes["spineseg.correlation_id"].Should().Be(job);
        decision.Attributes["dicom.study_instance_uid"].Should().Be(studyUid);

        // Gateway -> bus -> worker: the job span descends from the routing span through MassTransit's spans.
        Ancestors(jobSpan).Select(s => s.SpanId).Should().ContainInOrder(route.SpanId, association.SpanId);
        var consume = Ancestors(jobSpan).First();
        consume.Service.Should().Be("spineseg-worker");
        consume.Name.Should().Be("segmentation-jobs process", "MassTransit's consume span in the worker is the job's parent");
        Ancestors(jobSpan).Should().Contain(s => s.Service == "spineseg-gateway" && s.Name.EndsWith(":SegmentationRequested send", StringComparison.Ordinal),
            "the gateway's publish of the job");
        foreach (var stage in (string[])["job.wait", "loading", "preprocessing", "network.presegmentation", "postprocessing", "writing"])
        {
            trace.Should().ContainSingle(s => s.Name == stage, stage).Which.ParentSpanId.Should().Be(jobSpan.SpanId, stage);
        }
        var produced = jobSpan.Events.Should().ContainSingle(e => e.Name == "audit.result.produced").Subject;
        ((string?)produced.Attributes["spineseg.model_versions"]).Should().Contain("=");

        // Worker -> bus -> gateway: the export is in the same trace, below the job.
        var delivery = trace.Should().ContainSingle(s => s.Name == "export.delivery").Subject;
        delivery.Service.Should().Be("spineseg-gateway");
        Ancestors(delivery).Select(s => s.SpanId).Should().Contain(jobSpan.SpanId);
        var delivered = delivery.Events.Should().ContainSingle(e => e.Name == "audit.export.delivered").Subject;
        delivered.Attributes["spineseg.destination"].Should().Be(NodeScenario.PacsDestination);
        trace.Where(s => s.Name == "export.attempt").Should().NotBeEmpty().And.OnlyContain(s => s.ParentSpanId == delivery.SpanId);

        // Metrics and logs went to the same collector.
        setup.Receiver.Payloads.Select(p => p.Signal).Distinct().Should().Contain(["traces", "logs"]);

        // No patient data anywhere: OTLP payloads (traces, metrics, logs) and both processes' output.
        await setup.StopProcessesAsync(cts.Token);
        setup.Receiver.Payloads.Where(p => p.Signal == "metrics").Should().NotBeEmpty("the processes flush their metrics when they stop");
        setup.Receiver.AnyPayloadContains("spineseg.worker.jobs.completed").Should().BeTrue();
        setup.Receiver.AnyPayloadContains("spineseg.gateway.jobs.open").Should().BeTrue("the gateway reports its job queue depth");
        foreach (var phi in (string[])[PatientNameFamily, PatientId, BirthDate, Accession])
        {
            setup.Receiver.AnyPayloadContains(phi).Should().BeFalse($"'{phi}' is patient data");
            setup.Gateway.Output.Should().NotContain(phi);
            setup.Worker.Output.Should().NotContain(phi);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task With_IncludePatientData_the_routing_audit_carries_the_patient_and_HashUids_hides_the_UIDs()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        // The gateway alone: the routing decision is the gateway's; the job waits in its queue.
        await using var setup = await TelemetryNode.StartAsync(output, includePatientData: true, worker: false, cts.Token);

        var studyUid = await NodeScenario.RouteToNodeAsync(setup.Pacs, setup.Study, cts.Token);
        await setup.Gateway.WaitUntilAsync(() => NodeScenario.LogHas(setup.Gateway.Output, 3401), "the series routed (event 3401)", TimeSpan.FromMinutes(1), cts.Token);
        await setup.StopProcessesAsync(cts.Token);

        var route = setup.Receiver.Spans().Should().ContainSingle(s => s.Name == "series.route", setup.Describe(setup.Receiver.Spans())).Subject;
        var decision = route.Events.Should().ContainSingle(e => e.Name == "audit.routing.decision").Subject;
        decision.Attributes["dicom.patient_name"].Should().Be(PatientName);
        decision.Attributes["dicom.patient_id"].Should().Be(PatientId);
        decision.Attributes["dicom.patient_birth_date"].Should().Be(BirthDate);
        decision.Attributes["dicom.accession_number"].Should().Be(Accession);
        foreach (var phi in (string[])[PatientNameFamily, PatientId, BirthDate])
        {
            setup.Receiver.AnyPayloadContains(phi).Should().BeTrue($"the operator option exports '{phi}'");
        }
        // Telemetry:HashUids: a UID is a 32-hex-digit hash, equal for equal UIDs, and the UID itself is never exported.
        var hashed = (string?)decision.Attributes["dicom.study_instance_uid"];
        hashed.Should().MatchRegex("^[0-9a-f]{32}$");
        route.Tag("dicom.study_instance_uid").Should().Be(hashed);
        setup.Receiver.AnyPayloadContains(studyUid).Should().BeFalse("UIDs are hashed");
    }

    [GeneratedRegex(@"\[4001\] Job (?<job>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")]
    private static partial Regex JobStarted();

    /// <summary>Collector, broker, PACS, a gateway and optionally one worker, each node process exporting to the collector.</summary>
    private sealed class TelemetryNode : IAsyncDisposable
    {
        private readonly ITestOutputHelper _output;

        private TelemetryNode(ITestOutputHelper output, TempDirectory temp, OtlpReceiver receiver, RabbitMqBroker broker, OrthancServer pacs, IReadOnlyList<string> study)
        {
            _output = output;
            Temp = temp;
            Receiver = receiver;
            Broker = broker;
            Pacs = pacs;
            Study = study;
        }

        public TempDirectory Temp { get; }

        public OtlpReceiver Receiver { get; }

        public RabbitMqBroker Broker { get; }

        public OrthancServer Pacs { get; }

        public IReadOnlyList<string> Study { get; }

        public NodeProcess Gateway { get; private set; } = null!;

        public NodeProcess? Worker { get; private set; }

        public static async Task<TelemetryNode> StartAsync(ITestOutputHelper output, bool includePatientData, bool worker, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            var temp = new TempDirectory("spineseg-telemetry");
            var nodePort = FreePort.Get();
            var receiver = await OtlpReceiver.StartAsync(cancellationToken);
            var broker = await RabbitMqBroker.StartAsync(cancellationToken: cancellationToken);
            var pacs = await NodeScenario.StartPacsAsync(nodePort, cancellationToken);
            var study = await NodeScenario.PhantomAsync(temp.Combine("study"), seed: 11, cancellationToken);
            foreach (var file in study)
            {
                // The phantom's patient, replaced by values no other text contains.
                var dicom = DicomFile.Open(file);
                dicom.Dataset.SetString(DicomTags.PatientName, PatientName);
                dicom.Dataset.SetString(DicomTags.PatientID, PatientId);
                dicom.Dataset.SetString(DicomTags.PatientBirthDate, BirthDate);
                dicom.Dataset.SetString(DicomTags.AccessionNumber, Accession);
                dicom.Save(file);
            }
            var node = new TelemetryNode(output, temp, receiver, broker, pacs, study);
            try
            {
                var configuration = NodeScenario.Configuration(nodePort, pacs, "fast");
                configuration["Bus"] = NodeScenario.RabbitMqBus(broker);
                configuration["Telemetry"] = new JsonObject { ["IncludePatientData"] = includePatientData, ["HashUids"] = includePatientData };
                var environment = new Dictionary<string, string>
                {
                    ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
                    ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                    ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
                    ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
                };
                var store = temp.Combine("store");
                node.Gateway = await NodeProcess.StartAsync(configuration, temp.Combine("gateway"), cancellationToken, ["--role", "gateway"], environment, storeRoot: store);
                if (worker)
                {
                    node.Worker = await NodeProcess.StartAsync(configuration, temp.Combine("worker"), cancellationToken, ["--role", "worker"], environment, storeRoot: store);
                    await node.WaitForConsumerAsync(cancellationToken);
                }
                output.WriteLine($"collector at {receiver.Endpoint}; broker, PACS and node ready in {clock.Elapsed.TotalSeconds:F1} s");
                return node;
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }

        /// <summary>SIGTERM to the node processes: their providers flush what is left (spans, metrics, logs).</summary>
        public async Task StopProcessesAsync(CancellationToken cancellationToken)
        {
            if (Worker is not null)
            {
                (await Worker.StopAsync(cancellationToken)).Should().Be(0, Worker.Output);
            }
            (await Gateway.StopAsync(cancellationToken)).Should().Be(0, Gateway.Output);
        }

        public string Diagnostics() => $"--- gateway ---\n{Gateway?.Output}\n--- worker ---\n{Worker?.Output}";

        public string Describe(IEnumerable<OtlpSpan> spans) =>
            string.Join('\n', spans.Select(s => $"{s.Service} {s.TraceId[..8]} {s.SpanId} <- {s.ParentSpanId} {s.Name} [{string.Join(", ", s.Events.Select(e => e.Name))}]"));

        private async Task WaitForConsumerAsync(CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (true)
            {
                var queues = await Broker.QueuesAsync(cancellationToken);
                if (queues.TryGetValue("segmentation-jobs", out var jobs) && jobs.Consumers >= 1)
                {
                    return;
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"The worker does not consume the job queue after 1 minute.\n{Diagnostics()}");
                }
                await Task.Delay(500, cancellationToken);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _output.WriteLine(Diagnostics());
            if (Worker is not null)
            {
                await Worker.DisposeAsync();
            }
            if (Gateway is not null)
            {
                await Gateway.DisposeAsync();
            }
            await Pacs.DisposeAsync();
            await Broker.DisposeAsync();
            await Receiver.DisposeAsync();
            Temp.Dispose();
        }
    }
}
