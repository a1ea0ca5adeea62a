using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// The node's status page and health endpoints, served by <c>spineseg serve</c> itself: the page as headless Chromium
/// shows it after an end-to-end run, and readiness following the RabbitMQ broker.
/// </summary>
public sealed class StatusPageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ResultTimeout = TimeSpan.FromMinutes(3);

    [Fact(Timeout = 420_000)]
    public async Task After_an_end_to_end_run_headless_Chromium_shows_the_study_exported_with_both_previews_loaded()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(7));
        using var temp = new TempDirectory("spineseg-status-page");
        var nodePort = FreePort.Get();
        var statusPort = FreePort.Get();
        var statusUrl = $"http://{Tools.Loopback}:{statusPort.ToString(CultureInfo.InvariantCulture)}/";
        await using var pacs = await NodeScenario.StartPacsAsync(nodePort, cts.Token);
        await using var node = await NodeProcess.StartAsync(NodeScenario.Configuration(nodePort, pacs, "fast"), temp.Combine("node"), cts.Token,
            environment: StatusPort(statusPort));
        node.Output.Should().Contain($"Status page: {statusUrl}");

        var files = await NodeScenario.PhantomAsync(temp.Combine("study"), seed: 17, cts.Token);
        var studyUid = await NodeScenario.RouteToNodeAsync(pacs, files, cts.Token);
        await NodeScenario.WaitForResultsAsync(pacs, studyUid, 4, ResultTimeout, cts.Token, () => node.Output);
        var id = Path.GetFileName(Directory.EnumerateDirectories(Path.Combine(node.StoreRoot, "results")).Single());

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        (await http.GetAsync(statusUrl + "health/live", cts.Token)).StatusCode.Should().Be(HttpStatusCode.OK);
        var ready = await http.GetAsync(statusUrl + "health/ready", cts.Token);
        var readyBody = await ready.Content.ReadAsStringAsync(cts.Token);
        ready.StatusCode.Should().Be(HttpStatusCode.OK, readyBody);
        readyBody.Should().Contain("masstransit-bus").And.Contain("store").And.Contain("free-disk");
        // The export's last step (removing the delivered item) may follow the PACS's answer by a moment.
        await WaitForAsync(async () => (await http.GetStringAsync(statusUrl, cts.Token)).Contains($"data-study=\"{id}\" data-state=\"exported\"", StringComparison.Ordinal),
            "the study exported on the page", TimeSpan.FromSeconds(30), cts.Token);
        (await http.GetAsync(statusUrl + "previews/../summary.json", cts.Token)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await http.GetAsync(statusUrl + $"previews/{id}/summary.json", cts.Token)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await http.GetAsync(statusUrl + $"previews/{id.ToUpperInvariant()}/overlay.png", cts.Token)).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var clock = Stopwatch.StartNew();
        await using var chromium = await HeadlessChromium.StartAsync(statusUrl, temp.Combine("chromium-profile"), cts.Token);
        await chromium.WaitUntilAsync(
            "document.readyState === 'complete' && document.querySelectorAll('img.preview').length > 0 && [...document.images].every(i => i.complete)",
            "loaded page with its images", TimeSpan.FromSeconds(60), cts.Token);
        var report = await chromium.EvaluateAsync("""
            JSON.stringify({
              rows: [...document.querySelectorAll('tr.study')].map(r => ({ id: r.dataset.study, state: r.dataset.state, text: r.innerText })),
              images: [...document.querySelectorAll('img.preview')].map(i => ({ src: i.getAttribute('src'), width: i.naturalWidth, height: i.naturalHeight })),
              text: document.body.innerText
            })
            """, cts.Token);
        var screenshot = Path.Combine(AppContext.BaseDirectory, "TestResults", "status-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await File.WriteAllBytesAsync(screenshot, await chromium.ScreenshotAsync(cts.Token), cts.Token);
        output.WriteLine($"Chromium: page checked in {clock.Elapsed.TotalSeconds:F1} s; screenshot {screenshot}");
        output.WriteLine(report.GetString());

        var page = JsonNode.Parse(report.GetString()!)!;
        var row = page["rows"]!.AsArray().Should().ContainSingle().Which!;
        row["id"]!.GetValue<string>().Should().Be(id);
        row["state"]!.GetValue<string>().Should().Be("exported");
        row["text"]!.GetValue<string>().Should().Contain("exported").And.Contain("denoiser").And.Contain("fast");
        var images = page["images"]!.AsArray();
        images.Select(i => i!["src"]!.GetValue<string>()).Should().BeEquivalentTo($"/previews/{id}/overlay.png", $"/previews/{id}/uncertainty.png");
        images.Should().AllSatisfy(i => i!["width"]!.GetValue<int>().Should().BePositive("the browser decoded the picture"));
        var text = page["text"]!.GetValue<string>();
        text.Should().NotContain(studyUid, "the page names studies by our correlation ids, never by UIDs");
        new FileInfo(screenshot).Length.Should().BeGreaterThan(10_000);
        output.WriteLine(node.Output);
    }

    [Fact(Timeout = 420_000)]
    public async Task A_parked_export_is_listed_and_the_retry_button_in_Chromium_puts_it_back_while_a_post_without_the_token_is_refused()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(7));
        using var temp = new TempDirectory("spineseg-status-retry");
        var nodePort = FreePort.Get();
        var statusPort = FreePort.Get();
        var statusUrl = $"http://{Tools.Loopback}:{statusPort.ToString(CultureInfo.InvariantCulture)}/";
        // A PACS that checks the called AE title, and a destination that names the wrong one: a permanent rejection, parked.
        await using var pacs = await OrthancServer.StartAsync(
            new OrthancOptions
            {
                EnableDicomWeb = false,
                Modalities = new Dictionary<string, OrthancModality> { [NodeScenario.NodeModality] = new(NodeScenario.NodeAeTitle, nodePort) },
                ExtraConfiguration = new Dictionary<string, JsonNode?> { ["DicomCheckCalledAet"] = true },
            },
            cts.Token);
        var configuration = NodeScenario.Configuration(nodePort, pacs, "fast");
        configuration["Export"]!["Destinations"]![0]!["CalledAeTitle"] = "NOTTHEPACS";
        await using var node = await NodeProcess.StartAsync(configuration, temp.Combine("node"), cts.Token, environment: StatusPort(statusPort));

        await NodeScenario.RouteToNodeAsync(pacs, await NodeScenario.PhantomAsync(temp.Combine("study"), seed: 18, cts.Token), cts.Token);
        await node.WaitForOutputAsync("[3523]", ResultTimeout, cts.Token);
        var id = Path.GetFileName(Directory.EnumerateDirectories(Path.Combine(node.StoreRoot, "results")).Single());
        var item = Path.GetFileName(Directory.EnumerateDirectories(Path.Combine(node.StoreRoot, "exports", "parked")).Single());

        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var html = await http.GetStringAsync(statusUrl, cts.Token);
        html.Should().Contain($"data-study=\"{id}\" data-state=\"parked\"").And.Contain($"action=\"/exports/{item}/retry\"");
        using (var forged = await http.PostAsync(statusUrl + $"exports/{item}/retry", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "guessed" }), cts.Token))
        {
            forged.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a post without the page's token is refused");
        }
        using (var bare = await http.PostAsync(statusUrl + $"exports/{item}/retry", null, cts.Token))
        {
            bare.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }
        NodeScenario.LogHas(node.Output, 3505).Should().BeFalse("nothing was put back yet");

        await using var chromium = await HeadlessChromium.StartAsync(statusUrl, temp.Combine("chromium-profile"), cts.Token);
        await chromium.WaitUntilAsync("document.readyState === 'complete' && document.querySelector('#parked form button') !== null", "Retry button", TimeSpan.FromSeconds(60), cts.Token);
        await chromium.EvaluateAsync("document.querySelector('#parked form button').click(); true", cts.Token);
        await node.WaitForOutputAsync("[3603]", TimeSpan.FromSeconds(30), cts.Token);
        await chromium.WaitUntilAsync("document.readyState === 'complete' && location.pathname === '/' && document.querySelector('#queues') !== null", "page after the retry", TimeSpan.FromSeconds(30), cts.Token);
        output.WriteLine(node.Output);
        NodeScenario.LogHas(node.Output, 3603, item).Should().BeTrue("the retry is logged with the item id");
        NodeScenario.LogHas(node.Output, 3505, item).Should().BeTrue("the queue put the item back");
    }

    [Fact(Timeout = 420_000)]
    public async Task Readiness_is_lost_while_the_RabbitMQ_broker_is_stopped_and_comes_back_after_its_restart()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(7));
        using var temp = new TempDirectory("spineseg-status-ready");
        await using var broker = await RabbitMqBroker.StartAsync(cancellationToken: cts.Token);
        var statusPort = FreePort.Get();
        var statusUrl = $"http://{Tools.Loopback}:{statusPort.ToString(CultureInfo.InvariantCulture)}/";
        var configuration = new JsonObject
        {
            ["Dicom"] = new JsonObject { ["Port"] = FreePort.Get(), ["BindAddress"] = Tools.Loopback },
            ["Export"] = new JsonObject { ["Destinations"] = new JsonArray(new JsonObject { ["Name"] = "local-folder", ["Kind"] = "Folder", ["Path"] = temp.Combine("exported") }) },
            ["Bus"] = NodeScenario.RabbitMqBus(broker),
        };
        await using var gateway = await NodeProcess.StartAsync(configuration, temp.Combine("gateway"), cts.Token, ["--role", "gateway"], StatusPort(statusPort));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();

        var (status, body) = await WaitForReadinessAsync(http, statusUrl, HttpStatusCode.OK, TimeSpan.FromSeconds(60), cts.Token);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s ready: {body}");

        await broker.StopAsync(cts.Token);
        clock.Restart();
        (status, body) = await WaitForReadinessAsync(http, statusUrl, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(90), cts.Token);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s after the broker stopped: {(int)status} {body}");
        var failing = JsonNode.Parse(body)!["failing"]!.AsArray().Select(f => f!.GetValue<string>()).ToList();
        failing.Should().Equal(["masstransit-bus"], "only the bus is down; the store and the disk are fine");
        (await http.GetAsync(statusUrl + "health/live", cts.Token)).StatusCode.Should().Be(HttpStatusCode.OK, "the process itself is alive");

        await broker.RestartAsync(cts.Token);
        clock.Restart();
        (status, body) = await WaitForReadinessAsync(http, statusUrl, HttpStatusCode.OK, TimeSpan.FromSeconds(150), cts.Token);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s after the broker restarted: {(int)status} {body}");
        NodeScenario.LogHas(gateway.Output, 3602, "masstransit-bus").Should().BeTrue("losing readiness is logged");
        NodeScenario.LogHas(gateway.Output, 3605).Should().BeTrue("regaining it too");
        output.WriteLine(gateway.Output);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_bad_status_address_or_a_status_port_in_use_stops_the_start_with_a_clear_message()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var temp = new TempDirectory("spineseg-status-config");
        var timeout = TimeSpan.FromMinutes(1);
        var invalid = await CliProcess.RunAsync(["serve", "--storage", temp.Combine("store1"), "--port", CliProcess.Port(FreePort.Get())], timeout, cts.Token,
            new Dictionary<string, string> { ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback, ["SPINESEG_Status__BindAddress"] = "localhost", ["SPINESEG_Status__Port"] = "-1" },
            workingDirectory: temp.Path);
        output.WriteLine(invalid.ToString());
        invalid.ExitCode.Should().Be(2, invalid.ToString());
        invalid.StandardError.Should().Contain("Configuration error: Status:BindAddress must be an IP address").And.Contain("Configuration error: Status:Port must be 0 (off) or 1-65535");

        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var busyPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var busy = await CliProcess.RunAsync(["serve", "--storage", temp.Combine("store2"), "--port", CliProcess.Port(FreePort.Get())], timeout, cts.Token,
            new Dictionary<string, string> { ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback, ["SPINESEG_Status__Port"] = CliProcess.Port(busyPort) },
            workingDirectory: temp.Path);
        output.WriteLine(busy.ToString());
        busy.ExitCode.Should().Be(2, busy.ToString());
        busy.StandardError.Should().Contain($"Configuration error: Status:Port {busyPort} on 127.0.0.1 cannot be used");
        busy.StandardOutput.Should().NotContain("Ready.");
    }

    /// <summary>Environment for a node serving its status page on <paramref name="port"/> (CliProcess turns it off by default).</summary>
    private static Dictionary<string, string> StatusPort(int port) => new() { ["SPINESEG_Status__Port"] = port.ToString(CultureInfo.InvariantCulture) };

    private static async Task<(HttpStatusCode Status, string Body)> WaitForReadinessAsync(HttpClient http, string statusUrl, HttpStatusCode wanted, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (true)
        {
            using var response = await http.GetAsync(statusUrl + "health/ready", cancellationToken);
            last = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == wanted)
            {
                return (response.StatusCode, last);
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"/health/ready did not answer {(int)wanted} within {timeout.TotalSeconds:F0} s; last: {(int)response.StatusCode} {last}");
            }
            await Task.Delay(500, cancellationToken);
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No {what} within {timeout.TotalSeconds:F0} s.");
            }
            await Task.Delay(500, cancellationToken);
        }
    }
}
