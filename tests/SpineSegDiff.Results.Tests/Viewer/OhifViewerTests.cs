using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Tests.Support;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Viewer;

/// <summary>
/// The viewer radiologists use: OHIF 3.13.2 (its prebuilt dist) on Orthanc's DICOMweb, in headless Chromium. The
/// study is opened, our all-slice SEG loaded by double-clicking its thumbnail, and OHIF's own decoded labelmap is
/// compared with our mask voxel for voxel; screenshots before and after show the overlay colours where the
/// structures are and nowhere before loading. OHIF places frames by reference or by position, whichever works, so
/// it tolerates a SEG wrong in one of them: the strict verifiers (IndependentVerifierTests) cover that.
/// </summary>
[Collection(SeriesCollection.Name)]
public sealed class OhifViewerTests(SeriesFixture series, ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Ohif_shows_our_seg_voxel_for_voxel_with_the_segment_colours_where_the_structures_are()
    {
        ViewerPackages.EnsureInstalled();
        using var temp = new TempDirectory("spineseg-ohif");
        var results = PhantomResults.Write(series, temp.Combine("results"));
        await using var orthanc = await PhantomResults.StartOrthancAsync();
        string[] files = [.. results.Source.Files, results.Seg.Path];
        var stored = await PhantomResults.StoreAsync(orthanc, files);
        stored.Where(r => !r.Succeeded).Should().BeEmpty();

        var seg = results.Seg;
        var slices = SeriesVolume.Build(results.Source.Instances()).Slices;
        var probeSlice = slices.Count / 2;
        var probes = ProbePoints.Find(results.Source, probeSlice);
        var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts", "ohif");
        Directory.CreateDirectory(artifacts);
        var expectedPath = temp.Combine("expected-labels.raw");
        await File.WriteAllBytesAsync(expectedPath, seg.ExpectedLabels());
        var spec = new JsonObject
        {
            ["orthanc"] = orthanc.BaseUri.ToString().TrimEnd('/'),
            ["port"] = FreePort.Get(),
            ["chromium"] = ViewerPackages.Chromium,
            ["userDataDir"] = temp.Combine("chromium-profile"),
            ["outDir"] = artifacts,
            ["studyUid"] = results.StudyInstanceUid,
            ["segSeriesUid"] = seg.Result.SeriesInstanceUid,
            ["sopUids"] = new JsonArray(slices.Select(s => (JsonNode?)s.SopInstanceUid).ToArray()),
            ["rows"] = results.Source.Rows,
            ["columns"] = results.Source.Columns,
            ["expectedPath"] = expectedPath,
            ["segmentOfLabel"] = new JsonObject { ["1"] = 1, ["2"] = 2, ["3"] = 3 },
            ["probeSopUid"] = slices[probeSlice].SopInstanceUid,
            ["probes"] = new JsonArray(probes.Select(p =>
            {
                var world = slices[probeSlice].PixelToPatient(p.Row, p.Column);
                return (JsonNode?)new JsonObject { ["name"] = p.Name, ["world"] = new JsonArray(world.X, world.Y, world.Z) };
            }).ToArray()),
            ["imageCorners"] = new JsonArray(new[] { (0, 0), (0, results.Source.Columns - 1), (results.Source.Rows - 1, 0), (results.Source.Rows - 1, results.Source.Columns - 1) }
                .Select(p => slices[probeSlice].PixelToPatient(p.Item1, p.Item2))
                .Select(w => (JsonNode?)new JsonArray(w.X, w.Y, w.Z)).ToArray()),
            ["timeoutMs"] = 90_000,
        };
        var specPath = temp.Combine("spec.json");
        await File.WriteAllTextAsync(specPath, spec.ToJsonString());

        var clock = Stopwatch.StartNew();
        var run = await ViewerPackages.RunAsync("ohif_check.mjs", [specPath], RunTimeout);
        output.WriteLine($"OHIF check: exit {run.ExitCode} in {clock.Elapsed.TotalSeconds:F1} s; screenshots in {artifacts}");
        output.WriteLine(run.StandardError);
        run.ExitCode.Should().Be(0, run.ToString());
        using var document = JsonDocument.Parse(run.StandardOutput);
        var report = document.RootElement;

        // Before loading: no segmentation, and no overlay colour anywhere on the image.
        report.GetProperty("segmentationsBefore").GetInt32().Should().Be(0);
        var before = report.GetProperty("before");
        var imagePixels = before.GetProperty("imagePixels").GetInt32();
        output.WriteLine($"image on screen {before.GetProperty("imageRect")}: {imagePixels} pixels, coloured before {before.GetProperty("colouredPixels")}, after {report.GetProperty("after").GetProperty("colouredPixels")}");
        imagePixels.Should().BeGreaterThan(100_000, "the image must be on screen to be looked at");
        before.GetProperty("colouredPixels").GetInt32().Should().Be(0, "no overlay before the SEG is loaded");

        // OHIF made a SEG display set and a segmentation with our segments.
        var displaySet = report.GetProperty("displaySet");
        displaySet.GetProperty("modality").GetString().Should().Be("SEG");
        displaySet.GetProperty("isLoaded").GetBoolean().Should().BeTrue();
        var ourLabels = seg.Result.Dataset.GetSequence(DicomTags.SegmentSequence)!.Items
            .ToDictionary(i => (int)i.GetUInt16(DicomTags.SegmentNumber)!, i => i.GetString(DicomTags.SegmentLabel));
        var ohifLabels = report.GetProperty("segments").EnumerateArray()
            .ToDictionary(s => s.GetProperty("number").GetInt32(), s => s.GetProperty("label").GetString());
        ohifLabels.Should().BeEquivalentTo(ourLabels);

        // Voxel counts per segment, then every voxel of every slice.
        var expected = seg.ExpectedLabels();
        var counts = report.GetProperty("voxelCounts");
        foreach (var label in new[] { 1, 2, 3 })
        {
            var ours = expected.Count(v => v == label);
            output.WriteLine($"segment {label} '{ourLabels[label]}': ours {ours} voxels");
            ours.Should().BeGreaterThan(0);
            counts.TryGetProperty(label.ToString(System.Globalization.CultureInfo.InvariantCulture), out var theirs).Should().BeTrue($"OHIF has voxels of segment {label}");
            theirs.GetInt32().Should().Be(ours, $"OHIF's voxel count of segment {label}");
        }
        var perSlice = report.GetProperty("perSlice").EnumerateArray().ToList();
        perSlice.Should().HaveCount(slices.Count);
        foreach (var slice in perSlice)
        {
            var k = slice.GetProperty("slice").GetInt32();
            slice.GetProperty("differing").GetInt32().Should().Be(0, $"OHIF's labelmap equals our mask on slice {k} ({slice})");
            if (slice.GetProperty("expectedVoxels").GetInt32() > 0)
            {
                slice.GetProperty("present").GetBoolean().Should().BeTrue($"OHIF has a labelmap for slice {k}");
            }
        }

        // After loading: the segment colour at each structure's point, and none on unsegmented tissue.
        var after = report.GetProperty("after");
        after.GetProperty("colouredPixels").GetInt32().Should().BeGreaterThan(imagePixels / 20, "the structures cover much of the slice");
        var beforeProbes = ByName(before);
        var afterProbes = ByName(after);
        foreach (var probe in probes)
        {
            var (b, a) = (beforeProbes[probe.Name], afterProbes[probe.Name]);
            output.WriteLine($"{probe.Name} at row {probe.Row}, column {probe.Column}: before {Rgb(b)}, after {Rgb(a)}");
            (b.Max() - b.Min()).Should().BeLessThanOrEqualTo(12, $"{probe.Name} is grey before the SEG is loaded");
            if (probe.Channel is { } channel)
            {
                // Not "the channel rose": the canal is white on T2, and blue over white lowers red and green instead.
                a.Zip(b, (x, y) => Math.Abs(x - y)).Max().Should().BeGreaterThan(20, $"{probe.Name} changes when the SEG is shown");
                a[channel].Should().Be(a.Max(), $"{probe.Name}'s segment colour dominates");
                (a[channel] - a.Where((_, i) => i != channel).Max()).Should().BeGreaterThan(20, $"{probe.Name} is clearly tinted");
            }
            else
            {
                a.Zip(b, (x, y) => Math.Abs(x - y)).Max().Should().BeLessThanOrEqualTo(12, $"{probe.Name} has no overlay");
            }
        }
    }

    private static Dictionary<string, int[]> ByName(JsonElement sampled) =>
        sampled.GetProperty("probes").EnumerateArray().ToDictionary(
            p => p.GetProperty("name").GetString()!,
            p => p.GetProperty("rgb").EnumerateArray().Select(v => v.GetInt32()).ToArray());

    private static string Rgb(int[] c) => $"({c[0]}, {c[1]}, {c[2]})";
}

/// <summary>A point to look at on screen: a structure's centre (with the colour channel of its segment) or plain tissue.</summary>
public sealed record ProbePoint(string Name, int Row, int Column, int? Channel);

public static class ProbePoints
{
    /// <summary>Half-width of the square that must be all one label around a probe, so the screen sample stays inside.</summary>
    private const int Margin = 4;

    /// <summary>
    /// On one slice of the ground truth: the centroid of the canal, of the largest vertebra and of the largest disc
    /// (moved to the nearest pixel deep inside the structure, since a centroid of a curved shape can fall outside),
    /// and a point of unsegmented tissue (brighter than the slice's mean, far from every label) near the spine.
    /// </summary>
    public static IReadOnlyList<ProbePoint> Find(SourceSeries source, int slice)
    {
        int rows = source.Rows, columns = source.Columns, plane = rows * columns;
        var labels = source.Labels.Voxels.AsSpan(slice * plane, plane).ToArray();
        var canal = Deepest(labels, rows, columns, Largest(labels, rows, columns, 1), 1);
        var vertebra = Deepest(labels, rows, columns, Largest(labels, rows, columns, 2), 2);
        var disc = Deepest(labels, rows, columns, Largest(labels, rows, columns, 3), 3);
        var image = SeriesVolume.Build(source.Instances()).Volume.Voxels.AsSpan(slice * plane, plane).ToArray();
        var mean = image.Average();
        var best = (Row: -1, Column: -1, Distance: double.MaxValue);
        for (var r = 12; r < rows - 12; r++)
        {
            for (var c = 12; c < columns - 12; c++)
            {
                var d = Math.Pow(r - vertebra.Row, 2) + Math.Pow(c - vertebra.Column, 2);
                if (d < best.Distance && image[r * columns + c] > mean && AllLabel(labels, rows, columns, r, c, 10, 0))
                {
                    best = (r, c, d);
                }
            }
        }
        best.Row.Should().BeGreaterThanOrEqualTo(0, "the slice has unsegmented tissue to probe");
        return
        [
            new("spinal canal", canal.Row, canal.Column, 2),
            new("vertebra", vertebra.Row, vertebra.Column, 1),
            new("disc", disc.Row, disc.Column, 0),
            new("unsegmented tissue", best.Row, best.Column, null),
        ];
    }

    /// <summary>Pixels of the largest 4-connected component of <paramref name="label"/>.</summary>
    private static List<int> Largest(byte[] labels, int rows, int columns, byte label)
    {
        var seen = new bool[labels.Length];
        var largest = new List<int>();
        for (var start = 0; start < labels.Length; start++)
        {
            if (labels[start] != label || seen[start])
            {
                continue;
            }
            var component = new List<int>();
            var stack = new Stack<int>([start]);
            seen[start] = true;
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                component.Add(p);
                int r = p / columns, c = p % columns;
                foreach (var q in new[] { r > 0 ? p - columns : -1, r < rows - 1 ? p + columns : -1, c > 0 ? p - 1 : -1, c < columns - 1 ? p + 1 : -1 })
                {
                    if (q >= 0 && !seen[q] && labels[q] == label)
                    {
                        seen[q] = true;
                        stack.Push(q);
                    }
                }
            }
            if (component.Count > largest.Count)
            {
                largest = component;
            }
        }
        largest.Should().NotBeEmpty($"the probe slice has label {label}");
        return largest;
    }

    /// <summary>The component pixel nearest its centroid whose neighbourhood is all <paramref name="label"/>.</summary>
    private static (int Row, int Column) Deepest(byte[] labels, int rows, int columns, List<int> component, byte label)
    {
        var centreRow = component.Average(p => p / columns);
        var centreColumn = component.Average(p => p % columns);
        var inside = component.Where(p => AllLabel(labels, rows, columns, p / columns, p % columns, Margin, label)).ToList();
        inside.Should().NotBeEmpty($"label {label} is thick enough to probe on screen");
        var best = inside.MinBy(p => Math.Pow(p / columns - centreRow, 2) + Math.Pow(p % columns - centreColumn, 2));
        return (best / columns, best % columns);
    }

    private static bool AllLabel(byte[] labels, int rows, int columns, int row, int column, int margin, byte label)
    {
        for (var r = row - margin; r <= row + margin; r++)
        {
            for (var c = column - margin; c <= column + margin; c++)
            {
                if (r < 0 || c < 0 || r >= rows || c >= columns || labels[r * columns + c] != label)
                {
                    return false;
                }
            }
        }
        return true;
    }
}
