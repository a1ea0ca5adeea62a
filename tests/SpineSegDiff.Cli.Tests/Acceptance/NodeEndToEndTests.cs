using System.Text.Json.Nodes;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// The node as a hospital runs it, embedded default (one <c>spineseg serve</c> process on the in-memory bus), with
/// Orthanc as the hospital's PACS sending the study and receiving the results, and the faults the node must survive
/// without losing anything.
/// </summary>
public sealed class NodeEndToEndTests(ITestOutputHelper output)
{
    /// <summary>SEG, fractional SEG, heatmap SC and overlay SC.</summary>
    private const int ResultsPerStudy = 4;

    private static readonly TimeSpan ResultTimeout = TimeSpan.FromMinutes(3);

    [Fact(Timeout = 420_000)]
    public async Task Orthanc_sends_a_lumbar_study_and_gets_valid_results_back_whose_SEG_equals_the_worker_output()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(7));
        using var temp = new TempDirectory("spineseg-e2e");
        var nodePort = FreePort.Get();
        await using var pacs = await NodeScenario.StartPacsAsync(nodePort, cts.Token);
        await using var node = await NodeProcess.StartAsync(NodeScenario.Configuration(nodePort, pacs, "fast"), temp.Combine("node"), cts.Token);

        var files = await NodeScenario.PhantomAsync(temp.Combine("study"), seed: 11, cts.Token);
        var studyUid = await NodeScenario.RouteToNodeAsync(pacs, files, cts.Token);
        var results = await NodeScenario.WaitForResultsAsync(pacs, studyUid, ResultsPerStudy, ResultTimeout, cts.Token, () => node.Output);
        await node.WaitForOutputAsync("[3521]", TimeSpan.FromSeconds(30), cts.Token);
        output.WriteLine(node.Output);

        results.Should().HaveCount(ResultsPerStudy, "nothing is sent twice");
        await PacsResultChecks.VerifyAsync(pacs, results, studyUid, node.StoreRoot, temp.Path, cts.Token);
    }

    [Fact(Timeout = 420_000)]
    public async Task Results_ready_while_the_PACS_is_down_are_delivered_when_it_comes_back()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(7));
        using var temp = new TempDirectory("spineseg-e2e-pacs-down");
        var nodePort = FreePort.Get();
        await using var pacs = await NodeScenario.StartPacsAsync(nodePort, cts.Token);
        await using var node = await NodeProcess.StartAsync(NodeScenario.Configuration(nodePort, pacs, "fast"), temp.Combine("node"), cts.Token);

        var studyUid = await NodeScenario.RouteToNodeAsync(pacs, await NodeScenario.PhantomAsync(temp.Combine("study"), seed: 12, cts.Token), cts.Token);
        pacs.Stop();
        // A whole retry round fails while the PACS is down; the item then waits in the durable queue.
        await node.WaitForOutputAsync("[3522]", ResultTimeout, cts.Token);
        PendingExports(node.StoreRoot).Should().ContainSingle("the results wait in the export queue");

        await pacs.StartAgainAsync(cts.Token);
        var results = await NodeScenario.WaitForResultsAsync(pacs, studyUid, ResultsPerStudy, TimeSpan.FromMinutes(1), cts.Token, () => node.Output);
        await node.WaitForOutputAsync("[3521]", TimeSpan.FromSeconds(30), cts.Token);
        output.WriteLine(node.Output);
        results.Should().HaveCount(ResultsPerStudy);
        PendingExports(node.StoreRoot).Should().BeEmpty("the delivered item leaves the queue");
        NodeScenario.LogHas(node.Output, 3523).Should().BeFalse("a PACS that is down is a transient failure, not a reason to park");
    }

    [Fact(Timeout = 480_000)]
    public async Task Pending_exports_survive_a_node_restart_and_are_delivered_after_it()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        using var temp = new TempDirectory("spineseg-e2e-restart");
        var nodePort = FreePort.Get();
        await using var pacs = await NodeScenario.StartPacsAsync(nodePort, cts.Token);
        var configuration = NodeScenario.Configuration(nodePort, pacs, "fast");
        string studyUid;
        string firstRun;
        await using (var node = await NodeProcess.StartAsync(configuration, temp.Combine("node"), cts.Token))
        {
            studyUid = await NodeScenario.RouteToNodeAsync(pacs, await NodeScenario.PhantomAsync(temp.Combine("study"), seed: 13, cts.Token), cts.Token);
            pacs.Stop();
            await node.WaitForOutputAsync("[3522]", ResultTimeout, cts.Token);
            (await node.StopAsync(cts.Token)).Should().Be(0, "SIGTERM is a clean shutdown");
            firstRun = node.Output;
        }
        output.WriteLine(firstRun);
        NodeScenario.LogHas(firstRun, 3532, "1 items stay pending").Should().BeTrue("the exporter says what it leaves for the next start");
        PendingExports(Path.Combine(temp.Combine("node"), "store")).Should().ContainSingle();

        await pacs.StartAgainAsync(cts.Token);
        await using var restarted = await NodeProcess.StartAsync(configuration, temp.Combine("node"), cts.Token);
        var results = await NodeScenario.WaitForResultsAsync(pacs, studyUid, ResultsPerStudy, TimeSpan.FromMinutes(1), cts.Token, () => restarted.Output);
        await restarted.WaitForOutputAsync("[3521]", TimeSpan.FromSeconds(30), cts.Token);
        output.WriteLine(restarted.Output);
        results.Should().HaveCount(ResultsPerStudy);
        NodeScenario.LogHas(restarted.Output, 3520, "1 pending").Should().BeTrue("the restarted exporter finds the item");
        NodeScenario.LogHas(restarted.Output, 4001).Should().BeFalse("the results were kept, not recomputed");
        PendingExports(restarted.StoreRoot).Should().BeEmpty();
    }

    [Fact(Timeout = 480_000)]
    public async Task A_node_stopped_in_the_middle_of_a_job_segments_the_series_after_its_restart()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        using var temp = new TempDirectory("spineseg-e2e-stop-mid-job");
        var nodePort = FreePort.Get();
        await using var pacs = await NodeScenario.StartPacsAsync(nodePort, cts.Token);
        // The paper profile: a job long enough to be stopped in the middle.
        var configuration = NodeScenario.Configuration(nodePort, pacs, "paper");
        string studyUid;
        string firstRun;
        await using (var node = await NodeProcess.StartAsync(configuration, temp.Combine("node"), cts.Token))
        {
            studyUid = await NodeScenario.RouteToNodeAsync(pacs, await NodeScenario.PhantomAsync(temp.Combine("study"), seed: 16, cts.Token), cts.Token);
            await node.WaitForOutputAsync("[4001]", ResultTimeout, cts.Token);
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            (await node.StopAsync(cts.Token)).Should().Be(0, "SIGTERM during a job is a clean shutdown");
            stopping.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the job in progress is cancelled, not awaited");
            firstRun = node.Output;
        }
        output.WriteLine(firstRun);
        NodeScenario.LogHas(firstRun, 4002).Should().BeFalse("the job was stopped before it completed");
        NodeScenario.LogHas(firstRun, 4004).Should().BeTrue("the job is cancelled and handed back");
        (await NodeScenario.ResultsInPacsAsync(pacs, studyUid, cts.Token)).Should().BeEmpty();

        await using var restarted = await NodeProcess.StartAsync(configuration, temp.Combine("node"), cts.Token);
        var results = await NodeScenario.WaitForResultsAsync(pacs, studyUid, ResultsPerStudy, ResultTimeout, cts.Token, () => restarted.Output);
        output.WriteLine(restarted.Output);
        results.Should().HaveCount(ResultsPerStudy);
        NodeScenario.LogHas(restarted.Output, 3407, "1 segmentation jobs").Should().BeTrue("the unanswered job is published again");
        NodeScenario.LogHas(restarted.Output, 3409, "rule sagittal-lumbar-mr").Should().BeTrue();
        Directory.EnumerateFiles(Path.Combine(restarted.StoreRoot, "jobs"), "*.json").Should().BeEmpty("answered jobs leave the journal");
    }

    [Fact(Timeout = 480_000)]
    public async Task A_series_with_corrupt_pixel_data_fails_once_with_a_reason_and_the_next_study_is_still_processed()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        using var temp = new TempDirectory("spineseg-e2e-poison");
        var nodePort = FreePort.Get();
        await using var pacs = await NodeScenario.StartPacsAsync(nodePort, cts.Token);
        await using var node = await NodeProcess.StartAsync(NodeScenario.Configuration(nodePort, pacs, "fast"), temp.Combine("node"), cts.Token);

        var poison = await NodeScenario.PhantomAsync(temp.Combine("poison"), seed: 14, cts.Token);
        // Well-formed DICOM whose pixel data is cut to half an image: only the decoder can tell.
        var damaged = DicomFile.Open(poison[poison.Count / 2]);
        var pixels = damaged.Dataset.GetBytes(DicomTags.PixelData);
        damaged.Dataset.SetBytes(DicomTags.PixelData, DicomVR.OW, pixels[..(pixels.Length / 2)]);
        damaged.Save(poison[poison.Count / 2]);
        var poisonUid = await NodeScenario.RouteToNodeAsync(pacs, poison, cts.Token);
        await node.WaitForOutputAsync("[3420]", ResultTimeout, cts.Token);

        var good = await NodeScenario.PhantomAsync(temp.Combine("good"), seed: 15, cts.Token);
        var goodUid = await NodeScenario.RouteToNodeAsync(pacs, good, cts.Token);
        goodUid.Should().NotBe(poisonUid);
        await NodeScenario.WaitForResultsAsync(pacs, goodUid, ResultsPerStudy, ResultTimeout, cts.Token, () => node.Output);
        output.WriteLine(node.Output);

        var lines = node.Output.Split('\n');
        lines.Count(l => l.Contains("[4001]", StringComparison.Ordinal)).Should().Be(2, "each study is segmented once: the poison job is not retried in a loop");
        var failure = lines.Should().ContainSingle(l => l.Contains("[4003]", StringComparison.Ordinal)).Subject;
        failure.Should().Contain("UnsupportedSeries").And.Contain("pixel data");
        lines.Should().ContainSingle(l => l.Contains("[3420]", StringComparison.Ordinal)).Which.Should().Contain("no results will be exported");
        (await NodeScenario.ResultsInPacsAsync(pacs, poisonUid, cts.Token)).Should().BeEmpty();
        node.Output.Should().NotContain("_error", "a series that cannot be segmented is answered, not dead-lettered");
    }

    /// <summary>A configuration mistake an installer makes; each stops the start with exit code 2 and one clear line.</summary>
    public static TheoryData<string, string> BadConfigurations => new()
    {
        { "unknown transport", "Bus:Transport must be InMemory or RabbitMq (got 'Kafka')" },
        { "invalid pattern", "Gateway:Routing:Rules:0:SeriesDescriptionPatterns '(T2' is not a valid regular expression" },
        { "destination without port", "Export:Destinations:0:Port is required for a Dicom destination" },
    };

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(BadConfigurations))]
    public async Task A_bad_configuration_stops_the_start_with_a_clear_message(string mistake, string message)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var temp = new TempDirectory("spineseg-bad-config");
        var configuration = NodeScenario.ReadConfiguration(NodeScenario.ExampleConfigurationPath);
        switch (mistake)
        {
            case "unknown transport":
                configuration["Bus"]!["Transport"] = "Kafka";
                break;
            case "invalid pattern":
                configuration["Gateway"]!["Routing"]!["Rules"]![0]!["SeriesDescriptionPatterns"] = new JsonArray("(T2");
                break;
            case "destination without port":
                configuration["Export"]!["Destinations"]![0]!.AsObject().Remove("Port");
                break;
        }
        var path = temp.Combine("node.json");
        await File.WriteAllTextAsync(path, configuration.ToJsonString(), cts.Token);

        var serve = await CliProcess.RunAsync(
            ["serve", "--config", path, "--storage", temp.Combine("store"), "--port", CliProcess.Port(FreePort.Get())], TimeSpan.FromMinutes(1), cts.Token,
            new Dictionary<string, string> { ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback });
        output.WriteLine(serve.ToString());

        serve.ExitCode.Should().Be(2, serve.ToString());
        serve.StandardError.Should().Contain("Configuration error: " + message);
        serve.StandardOutput.Should().NotContain("Ready.");
    }

    private static IReadOnlyList<string> PendingExports(string storeRoot)
    {
        var pending = Path.Combine(storeRoot, "exports", "pending");
        return Directory.Exists(pending) ? Directory.EnumerateDirectories(pending).ToList() : [];
    }
}
