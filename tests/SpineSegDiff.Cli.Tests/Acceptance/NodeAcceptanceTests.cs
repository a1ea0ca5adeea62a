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
}
