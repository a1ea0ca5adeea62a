using System.Globalization;
using System.Text.Json.Nodes;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// The routing rules of config/node.example.json applied by a running node to series a modality sends with dcmtk
/// storescu: only sagittal lumbar MR is segmented, each weighting by its own rule.
/// </summary>
public sealed class NodeRoutingTests(ITestOutputHelper output)
{
    private const string CallingAeTitle = "PACS";

    [Fact(Timeout = 360_000)]
    public async Task Axial_CT_and_cervical_series_are_not_routed_and_T1_and_T2_sagittal_lumbar_series_are()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        using var temp = new TempDirectory("spineseg-routing");
        var t2 = await NodeScenario.PhantomAsync(temp.Combine("t2"), seed: 21, cts.Token, contrast: "t2");
        var t1 = await NodeScenario.PhantomAsync(temp.Combine("t1"), seed: 22, cts.Token, contrast: "t1");
        // Each series gets its own instance count: the routing log names the count, never a UID or a description.
        var series = new (string Name, IReadOnlyList<string> Files, string Expected)[]
        {
            ("T2 sagittal lumbar", Variant(t2, 12, temp.Combine("v-t2"), _ => { }), "routed by rule sag-t2-lumbar: profile presegmentation, weighting T2"),
            ("T1 sagittal lumbar", Variant(t1, 11, temp.Combine("v-t1"), _ => { }), "routed by rule sag-t1-lumbar: profile presegmentation, weighting T1"),
            ("axial", Variant(t2, 10, temp.Combine("v-axial"), ds => ds
                .SetDecimalString(DicomTags.ImageOrientationPatient, 1, 0, 0, 0, 1, 0)
                .SetString(DicomTags.SeriesDescription, "t2_tse_tra")), "not routed: sag-t2-lumbar: not sagittal"),
            ("CT", Variant(t2, 9, temp.Combine("v-ct"), ds => ds
                .SetString(DicomTags.SOPClassUID, DicomUids.CTImageStorage)
                .SetString(DicomTags.Modality, "CT")), "not routed: sag-t2-lumbar: modality CT, not MR"),
            ("sagittal cervical", Variant(t2, 8, temp.Combine("v-cervical"), ds => ds
                .SetString(DicomTags.BodyPartExamined, "CSPINE")), "not routed: sag-t2-lumbar: body part CSPINE"),
        };

        var nodePort = FreePort.Get();
        await using var node = await NodeProcess.StartAsync(ExampleWithLocalDestinations(nodePort, temp.Combine("exported")), temp.Combine("node"), cts.Token);
        foreach (var (name, files, _) in series)
        {
            var sent = await Tools.StorescuAsync(nodePort, NodeScenario.NodeAeTitle, files, CallingAeTitle, cancellationToken: cts.Token);
            sent.ExitCode.Should().Be(0, $"{name}: {sent}");
        }
        await node.WaitUntilAsync(
            () => node.Output.Split('\n').Count(l => l.Contains("[3401]", StringComparison.Ordinal) || l.Contains("[3402]", StringComparison.Ordinal)) >= series.Length,
            "a routing decision for every series", TimeSpan.FromMinutes(1), cts.Token);
        // The two routed series are segmented and exported before the node stops, so the rules' profiles are used for real.
        await node.WaitUntilAsync(() => node.Output.Split('\n').Count(l => l.Contains("[3521]", StringComparison.Ordinal)) >= 2, "two deliveries", TimeSpan.FromMinutes(4), cts.Token);
        (await node.StopAsync(cts.Token)).Should().Be(0);
        output.WriteLine(node.Output);

        var decisions = node.Output.Split('\n').Where(l => l.Contains("[3401]", StringComparison.Ordinal) || l.Contains("[3402]", StringComparison.Ordinal)).ToList();
        decisions.Should().HaveCount(series.Length, "one decision per series");
        foreach (var (name, files, expected) in series)
        {
            decisions.Should().ContainSingle(l => l.Contains($"({files.Count} instances from {CallingAeTitle})", StringComparison.Ordinal), name)
                .Which.Should().Contain(expected, name);
        }
        Directory.EnumerateDirectories(temp.Combine("exported")).Should().HaveCount(2, "only the T1 and the T2 series were segmented");
    }

    /// <summary>
    /// config/node.example.json with its rules as written, except for a profile that keeps the test short; listening
    /// on loopback; its destinations replaced by a folder (the example's PACS host does not exist here).
    /// </summary>
    private static JsonObject ExampleWithLocalDestinations(int nodePort, string exportFolder)
    {
        var configuration = NodeScenario.ReadConfiguration(NodeScenario.ExampleConfigurationPath);
        // The example's main AE title (its AE title list, as written: SEGNODE applies both lumbar rules and allows PACS).
        configuration["Dicom"]!["AeTitles"]![0]!["AeTitle"]!.GetValue<string>().Should().Be(NodeScenario.NodeAeTitle);
        configuration["Dicom"]!["Port"] = nodePort;
        configuration["Dicom"]!["BindAddress"] = Tools.Loopback;
        configuration.Remove("Storage");
        configuration["Gateway"]!["Assembly"]!["QuietPeriod"] = "00:00:02";
        configuration["Gateway"]!["Assembly"]!["PollInterval"] = "00:00:00.200";
        foreach (var rule in configuration["Gateway"]!["Routing"]!["Rules"]!.AsArray())
        {
            rule!["Profile"] = "presegmentation";
            rule["Destinations"] = new JsonArray("archive-folder");
        }
        configuration["Export"]!["Destinations"] = new JsonArray(new JsonObject { ["Name"] = "archive-folder", ["Kind"] = "Folder", ["Path"] = exportFolder });
        return configuration;
    }

    /// <summary>The first <paramref name="count"/> files of a series as a new series (new series and instance UIDs), changed by <paramref name="change"/>.</summary>
    private static IReadOnlyList<string> Variant(IReadOnlyList<string> source, int count, string directory, Action<DicomDataset> change)
    {
        Directory.CreateDirectory(directory);
        var seriesUid = DicomUids.Generate();
        var written = new List<string>();
        // The middle of the series, so the segmented (central) slice shows the spine.
        var first = (source.Count - count) / 2;
        foreach (var file in source.Skip(first).Take(count))
        {
            var original = DicomFile.Open(file);
            var dataset = original.Dataset
                .SetString(DicomTags.SeriesInstanceUID, seriesUid)
                .SetString(DicomTags.SOPInstanceUID, DicomUids.Generate());
            change(dataset);
            var path = Path.Combine(directory, $"IM{written.Count + 1:D5}.dcm");
            DicomFile.Create(dataset, original.TransferSyntax).Save(path);
            written.Add(path);
        }
        written.Should().HaveCount(count, "the phantom has at least that many slices");
        return written;
    }
}
