using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>The node end to end as users start it: <c>spineseg demo</c>, and <c>serve</c> with the example configuration.</summary>
public sealed class NodeAcceptanceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(6);

    [Fact(Timeout = 420_000)]
    public async Task Demo_sends_a_study_through_the_node_and_gets_valid_results_back()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(7));
        using var temp = new TempDirectory("spineseg-cli-demo");

        var demo = await CliProcess.RunAsync(["demo", "--out", temp.Path, "--profile", "fast", "--timeout", "300"], CommandTimeout, cts.Token);
        output.WriteLine(demo.ToString());

        demo.ExitCode.Should().Be(0, demo.ToString());
        demo.StandardOutput.Should().Contain("Results exported").And.Contain("Timings:");
        var exportedItem = Directory.EnumerateDirectories(temp.Combine("exported")).Should().ContainSingle().Subject;
        var files = Directory.EnumerateFiles(exportedItem, "*.dcm").Order(StringComparer.Ordinal).ToList();
        files.Should().HaveCount(4, "SEG, fractional SEG, heatmap SC and overlay SC");
        var studyUid = DicomFile.Open(Directory.EnumerateFiles(temp.Combine("study", "MR")).First()).Dataset.GetString(DicomTags.StudyInstanceUID);
        var modalities = new List<string?>();
        foreach (var file in files)
        {
            var check = await Tools.DciodvfyAsync(file, cts.Token);
            check.ExitCode.Should().Be(0, check.ToString());
            check.Output.Should().NotContain("Error");
            var dataset = DicomFile.Open(file).Dataset;
            dataset.GetString(DicomTags.StudyInstanceUID).Should().Be(studyUid, "results go back into the source study");
            modalities.Add(dataset.GetString(DicomTags.Modality));
        }
        modalities.Should().BeEquivalentTo(["SEG", "SEG", "OT", "OT"]);
        demo.StandardOutput.Should().Contain("overlay.png").And.Contain("uncertainty.png");
        Directory.EnumerateFiles(temp.Combine("store", "exports"), "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("queue.lock", StringComparison.Ordinal)).Should().BeEmpty("the delivered export item leaves the queue");
    }

    [Fact(Timeout = 180_000)]
    public async Task The_example_configuration_starts_the_node_and_a_rule_naming_an_unknown_destination_does_not()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var temp = new TempDirectory("spineseg-cli-config");
        var example = Path.Combine(FixtureGenerator.RepositoryRoot(), "config", "node.example.json");
        var environment = new Dictionary<string, string> { ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback };

        await using (var serve = CliProcess.Start(["serve", "--config", example, "--storage", temp.Combine("store"), "--port", CliProcess.Port(FreePort.Get())], environment))
        {
            while (!serve.HasExited && !serve.StandardOutput.Contains("Ready.", StringComparison.Ordinal))
            {
                await Task.Delay(100, cts.Token);
            }
            output.WriteLine(serve.CombinedOutput);
            serve.HasExited.Should().BeFalse(serve.CombinedOutput);
            var kill = await ExternalProcess.RunAsync(Tools.Find("kill"), ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], CommandTimeout, cts.Token);
            kill.ExitCode.Should().Be(0);
            await serve.WaitForExitAsync(cts.Token);
            serve.ExitCode.Should().Be(0, serve.CombinedOutput);
        }

        environment["SPINESEG_Gateway__Routing__Rules__1__Destinations__0"] = "no-such-pacs";
        var broken = await CliProcess.RunAsync(["serve", "--config", example, "--storage", temp.Combine("store2"), "--port", CliProcess.Port(FreePort.Get())], CommandTimeout, cts.Token, environment);
        output.WriteLine(broken.ToString());
        broken.ExitCode.Should().Be(2, broken.ToString());
        broken.StandardError.Should().Contain("Configuration error").And.Contain("'no-such-pacs'");
    }

    [Fact(Timeout = 240_000)]
    public async Task The_example_configuration_answers_on_both_ae_titles_each_with_its_own_callers_and_a_bad_ae_title_list_stops_the_node()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var temp = new TempDirectory("spineseg-cli-aetitles");
        var example = Path.Combine(FixtureGenerator.RepositoryRoot(), "config", "node.example.json");
        var environment = new Dictionary<string, string> { ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback };
        var port = FreePort.Get();

        await using (var serve = CliProcess.Start(["serve", "--config", example, "--storage", temp.Combine("store"), "--port", CliProcess.Port(port)], environment))
        {
            while (!serve.HasExited && !serve.StandardOutput.Contains("Ready.", StringComparison.Ordinal))
            {
                await Task.Delay(100, cts.Token);
            }
            serve.HasExited.Should().BeFalse(serve.CombinedOutput);

            var main = await Tools.EchoscuAsync(port, "SEGNODE", callingAeTitle: "PACS", cancellationToken: cts.Token);
            var fast = await Tools.EchoscuAsync(port, "SEGFAST", callingAeTitle: "READING1", cancellationToken: cts.Token);
            var wrongCaller = await Tools.EchoscuAsync(port, "SEGFAST", callingAeTitle: "PACS", cancellationToken: cts.Token);
            var unknownTitle = await Tools.EchoscuAsync(port, "NOSUCHAE", callingAeTitle: "PACS", cancellationToken: cts.Token);
            output.WriteLine(string.Join(Environment.NewLine, main, fast, wrongCaller, unknownTitle));

            main.ExitCode.Should().Be(0, main.ToString());
            fast.ExitCode.Should().Be(0, fast.ToString());
            wrongCaller.ExitCode.Should().NotBe(0);
            wrongCaller.Output.Should().Contain("Rejected Permanent").And.Contain("Calling AE Title Not Recognized", "PACS may call SEGNODE but not SEGFAST");
            unknownTitle.ExitCode.Should().NotBe(0);
            unknownTitle.Output.Should().Contain("Rejected Permanent").And.Contain("Called AE Title Not Recognized");

            var kill = await ExternalProcess.RunAsync(Tools.Find("kill"), ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], CommandTimeout, cts.Token);
            kill.ExitCode.Should().Be(0);
            await serve.WaitForExitAsync(cts.Token);
            output.WriteLine(serve.CombinedOutput);
            serve.ExitCode.Should().Be(0, serve.CombinedOutput);
            serve.CombinedOutput.Should().Contain("DICOM node SEGNODE, SEGFAST listening on");
        }

        // A duplicate title and an unknown rule name, both reported, and nothing listens.
        var broken = new Dictionary<string, string>(environment)
        {
            ["SPINESEG_Dicom__AeTitles__1__AeTitle"] = "SEGNODE",
            ["SPINESEG_Dicom__AeTitles__1__Rules__0"] = "no-such-rule",
        };
        var refused = await CliProcess.RunAsync(["serve", "--config", example, "--storage", temp.Combine("store2"), "--port", CliProcess.Port(FreePort.Get())], CommandTimeout, cts.Token, broken);
        output.WriteLine(refused.ToString());
        refused.ExitCode.Should().Be(2, refused.ToString());
        refused.StandardError.Should().Contain("Configuration error: Dicom:AeTitles lists 'SEGNODE' 2 times")
            .And.Contain("Configuration error: Dicom:AeTitles:1:Rules names 'no-such-rule'");

        // --aet is the shorthand: with an AE title list it would be ignored, so it is refused.
        var both = await CliProcess.RunAsync(["serve", "--config", example, "--aet", "OTHER", "--storage", temp.Combine("store3"), "--port", CliProcess.Port(FreePort.Get())], CommandTimeout, cts.Token, environment);
        output.WriteLine(both.ToString());
        both.ExitCode.Should().Be(2, both.ToString());
        both.StandardError.Should().Contain("Configuration error: Dicom:AeTitle (or --aet) and Dicom:AeTitles are both set");
    }
}
