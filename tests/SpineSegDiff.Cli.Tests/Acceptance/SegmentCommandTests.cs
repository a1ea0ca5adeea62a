using System.Text.Json;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary><c>spineseg segment</c> on a phantom study, run as users run it, with the shipped models.</summary>
public sealed class SegmentCommandTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(4);

    [Fact(Timeout = 600_000)]
    public async Task Segment_writes_a_mask_and_heatmap_on_the_source_slice_geometry_reproducibly()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(9));
        using var temp = new TempDirectory("spineseg-cli-segment");
        var phantom = await CliProcess.RunAsync(["phantom", "--out", temp.Combine("study"), "--seed", "4"], CommandTimeout, cts.Token);
        phantom.ExitCode.Should().Be(0, phantom.ToString());
        var seriesFolder = temp.Combine("study", "MR");

        var first = await CliProcess.RunAsync(["segment", seriesFolder, "--out", temp.Combine("a"), "--profile", "fast", "--seed", "3", "--dicom"], CommandTimeout, cts.Token);
        output.WriteLine(first.ToString());
        first.ExitCode.Should().Be(0, first.ToString());
        first.StandardOutput.Should().Contain("denoising step 3/3").And.Contain("not for clinical use");

        // Geometry: the mask is a one-slice volume exactly on the source image the summary names.
        using var summary = JsonDocument.Parse(File.ReadAllText(temp.Combine("a", "summary.json")));
        var source = summary.RootElement.GetProperty("source");
        var sopInstanceUid = source.GetProperty("sopInstanceUid").GetString();
        var sourceFile = Directory.EnumerateFiles(seriesFolder, "*.dcm")
            .Select(f => DicomFile.Open(f).Dataset)
            .Single(d => d.GetString(DicomTags.SOPInstanceUID) == sopInstanceUid);
        var mask = MetaImageReader.Read<byte>(temp.Combine("a", "mask.mha"));
        var heatmap = MetaImageReader.Read<float>(temp.Combine("a", "uncertainty.mha"));
        var rows = (int)sourceFile.GetUInt16(DicomTags.Rows)!.Value;
        var columns = (int)sourceFile.GetUInt16(DicomTags.Columns)!.Value;
        var position = sourceFile.GetDecimalStrings(DicomTags.ImagePositionPatient);
        var orientation = sourceFile.GetDecimalStrings(DicomTags.ImageOrientationPatient);
        var spacing = sourceFile.GetDecimalStrings(DicomTags.PixelSpacing);
        foreach (var g in new[] { mask.Geometry, heatmap.Geometry })
        {
            (g.Size0, g.Size1, g.Size2).Should().Be((columns, rows, 1));
            g.Origin.X.Should().BeApproximately(position[0], 1e-4);
            g.Origin.Y.Should().BeApproximately(position[1], 1e-4);
            g.Origin.Z.Should().BeApproximately(position[2], 1e-4);
            g.Direction.Axis0.X.Should().BeApproximately(orientation[0], 1e-5);
            g.Direction.Axis0.Y.Should().BeApproximately(orientation[1], 1e-5);
            g.Direction.Axis0.Z.Should().BeApproximately(orientation[2], 1e-5);
            g.Direction.Axis1.X.Should().BeApproximately(orientation[3], 1e-5);
            g.Direction.Axis1.Y.Should().BeApproximately(orientation[4], 1e-5);
            g.Direction.Axis1.Z.Should().BeApproximately(orientation[5], 1e-5);
            // PixelSpacing is row spacing \ column spacing; axis 0 runs along a row (column index).
            g.Spacing.X.Should().BeApproximately(spacing[1], 1e-6);
            g.Spacing.Y.Should().BeApproximately(spacing[0], 1e-6);
        }
        heatmap.Voxels.Should().OnlyContain(v => v >= 0 && v <= 1.0001f);
        heatmap.Voxels.Max().Should().BeGreaterThan(0.1f, "the boundaries of a real segmentation are uncertain somewhere");

        // The mask agrees with the phantom's ground truth on that slice (a working model, not just right-shaped files).
        var truth = MetaImageReader.Read<byte>(temp.Combine("study", "ground_truth_labels.mha"));
        var plane = rows * columns;
        var sliceIndex = source.GetProperty("sliceIndex").GetInt32();
        var truthSlice = truth.Voxels.AsSpan(sliceIndex * plane, plane).ToArray();
        for (byte c = 1; c <= 3; c++)
        {
            Dice(mask.Voxels, truthSlice, c).Should().BeGreaterThan(0.75, $"class {c}");
        }
        foreach (var name in new[] { "overlay.png", "uncertainty.png" })
        {
            File.ReadAllBytes(temp.Combine("a", name)).Take(8).Should().Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
        }
        summary.RootElement.GetProperty("models").EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["presegmentation", "spinesegdiff"]);
        summary.RootElement.GetProperty("structures").EnumerateArray().Count(s => s.GetProperty("structure").GetString() == "disc").Should().BeGreaterThan(2);

        // --dicom: the DICOM results on the segmented slice, and seg-from-mask makes the same objects from the .mha files.
        var fromMask = await CliProcess.RunAsync(
            ["seg-from-mask", "--source", seriesFolder, "--mask", temp.Combine("a", "mask.mha"), "--heatmap", temp.Combine("a", "uncertainty.mha"), "--out", temp.Combine("a", "from-mask")],
            CommandTimeout, cts.Token);
        output.WriteLine(fromMask.ToString());
        fromMask.ExitCode.Should().Be(0, fromMask.ToString());
        fromMask.StandardOutput.Should().Contain($"covers 1 slice(s): {sliceIndex + 1} ").And.Contain("(summary.json)");
        foreach (var folder in new[] { temp.Combine("a", "dicom"), temp.Combine("a", "from-mask") })
        {
            Directory.EnumerateFiles(folder).Select(Path.GetFileName).Should().BeEquivalentTo(["seg.dcm", "uncertainty-seg.dcm", "heatmap-sc-001.dcm", "overlay-sc-001.dcm"]);
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                var check = await Tools.DciodvfyAsync(file, cts.Token);
                check.ExitCode.Should().Be(0, check.ToString());
                check.Output.Should().NotContain("Error");
                var derived = DicomFile.Open(file).Dataset;
                derived.GetString(DicomTags.StudyInstanceUID).Should().Be(sourceFile.GetString(DicomTags.StudyInstanceUID));
            }
            // The frames of the SEG reference exactly the segmented source image.
            var seg = DicomFile.Open(Path.Combine(folder, "seg.dcm")).Dataset;
            var frames = seg.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)!.Items;
            frames.Should().HaveCount(3);
            frames.Select(f => f.GetSequence(DicomTags.DerivationImageSequence)!.Items[0].GetSequence(DicomTags.SourceImageSequence)!.Items[0]
                .GetString(DicomTags.ReferencedSOPInstanceUID)).Should().AllBe(sopInstanceUid);
        }

        // Same seed: the same bytes.
        var second = await CliProcess.RunAsync(["segment", seriesFolder, "--out", temp.Combine("b"), "--profile", "fast", "--seed", "3"], CommandTimeout, cts.Token);
        second.ExitCode.Should().Be(0, second.ToString());
        File.ReadAllBytes(temp.Combine("b", "mask.mha")).Should().Equal(File.ReadAllBytes(temp.Combine("a", "mask.mha")));
        File.ReadAllBytes(temp.Combine("b", "uncertainty.mha")).Should().Equal(File.ReadAllBytes(temp.Combine("a", "uncertainty.mha")));

        // --no-refine: the presegmentation alone, no heatmap.
        var baseline = await CliProcess.RunAsync(["segment", seriesFolder, "--out", temp.Combine("c"), "--no-refine"], CommandTimeout, cts.Token);
        baseline.ExitCode.Should().Be(0, baseline.ToString());
        File.Exists(temp.Combine("c", "mask.mha")).Should().BeTrue();
        File.Exists(temp.Combine("c", "uncertainty.mha")).Should().BeFalse();
    }

    [Fact(Timeout = 120_000)]
    public async Task Segment_reports_bad_input_and_bad_options_with_their_exit_codes()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(110));
        using var temp = new TempDirectory("spineseg-cli-segment-bad");
        var missing = await CliProcess.RunAsync(["segment", temp.Combine("nothing-here"), "--out", temp.Combine("o")], CommandTimeout, cts.Token);
        missing.ExitCode.Should().Be(1, missing.ToString());
        missing.StandardError.Should().Contain("nothing-here");

        File.WriteAllText(temp.Combine("not-dicom.txt"), "hello");
        var notDicom = await CliProcess.RunAsync(["segment", temp.Path, "--out", temp.Combine("o")], CommandTimeout, cts.Token);
        notDicom.ExitCode.Should().Be(1, notDicom.ToString());
        notDicom.StandardError.Should().Contain("No DICOM images");

        var badProfile = await CliProcess.RunAsync(["segment", temp.Path, "--out", temp.Combine("o"), "--profile", "slow"], CommandTimeout, cts.Token);
        badProfile.ExitCode.Should().Be(2, badProfile.ToString());
        badProfile.StandardError.Should().Contain("Configuration error").And.Contain("slow");
    }

    [Fact(Timeout = 300_000)]
    public async Task Seg_from_mask_writes_valid_objects_for_a_whole_series_and_refuses_maps_off_the_grid()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var temp = new TempDirectory("spineseg-cli-segfrommask");
        var phantom = await CliProcess.RunAsync(["phantom", "--out", temp.Combine("study"), "--seed", "2"], CommandTimeout, cts.Token);
        phantom.ExitCode.Should().Be(0, phantom.ToString());
        var series = temp.Combine("study", "MR");
        var truthPath = temp.Combine("study", "ground_truth_labels.mha");
        var sliceCount = Directory.EnumerateFiles(series, "*.dcm").Count();

        var whole = await CliProcess.RunAsync(["seg-from-mask", "--source", series, "--mask", truthPath, "--out", temp.Combine("whole"), "--algorithm-version", "ground truth"], CommandTimeout, cts.Token);
        output.WriteLine(whole.ToString());
        whole.ExitCode.Should().Be(0, whole.ToString());
        whole.StandardOutput.Should().Contain($"covers {sliceCount} slice(s)").And.Contain("algorithm SpineSegDiff ground truth (--algorithm-version)");
        var written = Directory.EnumerateFiles(temp.Combine("whole")).Select(Path.GetFileName).ToList();
        written.Should().Contain("seg.dcm").And.HaveCount(1 + sliceCount, "the SEG and one overlay Secondary Capture per slice, no heatmap without --heatmap");
        var check = await Tools.DciodvfyAsync(temp.Combine("whole", "seg.dcm"), cts.Token);
        check.ExitCode.Should().Be(0, check.ToString());

        var levels = await CliProcess.RunAsync(["seg-from-mask", "--source", series, "--mask", truthPath, "--out", temp.Combine("levels"), "--per-level"], CommandTimeout, cts.Token);
        levels.ExitCode.Should().Be(0, levels.ToString());
        levels.StandardOutput.Should().Contain("13 per-level segments").And.Contain("(empty: none)");
        (await Tools.DciodvfyAsync(temp.Combine("levels", "seg.dcm"), cts.Token)).ExitCode.Should().Be(0);

        // A label map with a value outside 0..3, and one shifted off the source grid: refused, nothing written.
        var truth = MetaImageReader.Read<byte>(truthPath);
        var bad = new SpineSegDiff.Imaging.Geometry.Volume<byte>(truth.Geometry, truth.Voxels.Select(v => v == 3 ? (byte)9 : v).ToArray());
        MetaImageWriter.Write(temp.Combine("bad-values.mha"), bad);
        var g = truth.Geometry;
        var shifted = new SpineSegDiff.Imaging.Geometry.Volume<byte>(
            new SpineSegDiff.Imaging.Geometry.VolumeGeometry(g.Size0, g.Size1, g.Size2, g.Spacing, g.Origin + (0.5 * g.Spacing.Z) * g.Direction.Axis2, g.Direction), truth.Voxels);
        MetaImageWriter.Write(temp.Combine("shifted.mha"), shifted);
        foreach (var (mask, reason) in new[] { ("bad-values.mha", "value 9"), ("shifted.mha", "no image of the source series") })
        {
            var refused = await CliProcess.RunAsync(["seg-from-mask", "--source", series, "--mask", temp.Combine(mask), "--out", temp.Combine("refused")], CommandTimeout, cts.Token);
            output.WriteLine(refused.ToString());
            refused.ExitCode.Should().Be(1, refused.ToString());
            refused.StandardError.Should().Contain(reason);
            Directory.Exists(temp.Combine("refused")).Should().BeFalse();
        }
        var missing = await CliProcess.RunAsync(["seg-from-mask", "--source", series, "--mask", temp.Combine("none.mha"), "--out", temp.Combine("refused")], CommandTimeout, cts.Token);
        missing.ExitCode.Should().Be(1, missing.ToString());
        missing.StandardError.Should().Contain("none.mha");
    }

    private static double Dice(byte[] predicted, byte[] truth, byte label)
    {
        long both = 0, p = 0, t = 0;
        for (var i = 0; i < truth.Length; i++)
        {
            var inP = predicted[i] == label;
            var inT = truth[i] == label;
            p += inP ? 1 : 0;
            t += inT ? 1 : 0;
            both += inP && inT ? 1 : 0;
        }
        return p + t == 0 ? 1 : 2.0 * both / (p + t);
    }
}
