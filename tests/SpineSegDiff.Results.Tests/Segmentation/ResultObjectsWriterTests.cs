using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Results.Tests.Support;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>
/// Maps that cover some slices of a series (the one-slice mask.mha of <c>spineseg segment</c>) land on exactly those
/// source images, and everything else is refused; the result set writes every object under fixed names.
/// </summary>
[Collection(SeriesCollection.Name)]
public sealed class ResultObjectsWriterTests(SeriesFixture series, ITestOutputHelper output)
{
    private static readonly SegmentationAlgorithm Algorithm = new("SpineSegDiff", "1.0.0");

    [Fact]
    public void A_one_slice_map_lands_on_the_source_image_at_its_position()
    {
        var source = series.Odd;
        var volume = SeriesVolume.Build(source.Instances());
        const int slice = 3;
        var oneSlice = SliceOf(source.Labels, slice);

        var placed = SourceGridPlacement.Place(volume, oneSlice, null);

        placed.Covered.Resolve(source.Slices).Should().Equal(slice);
        var plane = source.Rows * source.Columns;
        for (var k = 0; k < source.Slices; k++)
        {
            var expected = k == slice ? source.Labels.Voxels.AsSpan(k * plane, plane).ToArray() : new byte[plane];
            placed.Labels.Voxels.AsSpan(k * plane, plane).ToArray().Should().Equal(expected, $"slice {k}");
        }
    }

    [Fact]
    public void A_whole_series_map_covers_every_slice_unchanged()
    {
        var source = series.Odd;
        var placed = SourceGridPlacement.Place(SeriesVolume.Build(source.Instances()), source.Labels, WrittenResults.Uncertainty(source));

        placed.Covered.Resolve(source.Slices).Should().Equal(Enumerable.Range(0, source.Slices));
        placed.Labels.Voxels.Should().Equal(source.Labels.Voxels);
        placed.Uncertainty!.Voxels.Should().Equal(WrittenResults.Uncertainty(source).Voxels);
    }

    public static TheoryData<string, string> Misfits => new()
    {
        { "half a slice off", "nearest" },
        { "other in-plane size", "columns x" },
        { "other pixel spacing", "pixel spacing" },
        { "other row direction", "directions" },
        { "label value 4", "value 4" },
        { "heatmap on another grid", "not on the label map's grid" },
        { "heatmap value 1.5", "[0, 1]" },
        { "heatmap NaN", "[0, 1]" },
    };

    [Theory]
    [MemberData(nameof(Misfits))]
    public void Maps_that_do_not_lie_on_the_series_are_refused_with_the_reason(string misfit, string reason)
    {
        var source = series.Odd;
        var volume = SeriesVolume.Build(source.Instances());
        var labels = SliceOf(source.Labels, 2);
        var g = labels.Geometry;
        Volume<float>? heat = null;
        switch (misfit)
        {
            case "half a slice off":
                labels = new Volume<byte>(Moved(g, g.Origin + (0.5 * volume.Volume.Geometry.Spacing.Z) * volume.Volume.Geometry.Direction.Axis2), labels.Voxels);
                break;
            case "other in-plane size":
                labels = new Volume<byte>(new VolumeGeometry(g.Size0 - 1, g.Size1, 1, g.Spacing, g.Origin, g.Direction), new byte[(g.Size0 - 1) * g.Size1]);
                break;
            case "other pixel spacing":
                labels = new Volume<byte>(new VolumeGeometry(g.Size0, g.Size1, 1, new Vec3(g.Spacing.X * 1.1, g.Spacing.Y, g.Spacing.Z), g.Origin, g.Direction), labels.Voxels);
                break;
            case "other row direction":
                labels = new Volume<byte>(new VolumeGeometry(g.Size0, g.Size1, 1, g.Spacing, g.Origin, new Direction3(g.Direction.Axis1, g.Direction.Axis0, -g.Direction.Axis2)), labels.Voxels);
                break;
            case "label value 4":
                labels.Voxels[17] = 4;
                break;
            case "heatmap on another grid":
                heat = new Volume<float>(Moved(g, g.Origin + new Vec3(1, 0, 0)), new float[labels.Voxels.Length]);
                break;
            case "heatmap value 1.5":
                heat = new Volume<float>(g, new float[labels.Voxels.Length]);
                heat.Voxels[5] = 1.5f;
                break;
            case "heatmap NaN":
                heat = new Volume<float>(g, new float[labels.Voxels.Length]);
                heat.Voxels[5] = float.NaN;
                break;
        }

        var act = () => SourceGridPlacement.Place(volume, labels, heat);

        var error = act.Should().Throw<ArgumentException>().Which.Message;
        output.WriteLine($"{misfit}: {error}");
        error.Should().Contain(reason);
    }

    [Fact]
    public void The_result_set_holds_every_object_on_the_covered_slice_and_saves_under_fixed_names()
    {
        var source = series.Phantom;
        var instances = source.Instances();
        var volume = SeriesVolume.Build(instances);
        var slice = source.Slices / 2 + 1;
        var labels = SliceOf(source.Labels, slice);
        var heat = new Volume<float>(labels.Geometry, WrittenResults.Uncertainty(source).Voxels.AsSpan(slice * labels.Voxels.Length, labels.Voxels.Length).ToArray());
        using var temp = new TempDirectory("spineseg-resultset");

        var objects = new ResultObjectsWriter().Write(instances, labels, heat, Algorithm);
        var files = ResultObjectsWriter.Save(objects, temp.Path);

        files.Select(f => Path.GetFileName(f.Path)).Should().Equal("seg.dcm", "uncertainty-seg.dcm", "heatmap-sc-001.dcm", "overlay-sc-001.dcm");
        Directory.EnumerateFiles(temp.Path).Should().HaveCount(4, "no partial files stay behind");
        files.Select(f => f.SeriesInstanceUid).Distinct().Should().HaveCount(4, "each kind of object is its own series");
        files.Select(f => f.SopClassUid).Should().Equal(
            DicomUids.SegmentationStorage, DicomUids.SegmentationStorage, DicomUids.SecondaryCaptureImageStorage, DicomUids.SecondaryCaptureImageStorage);
        var sourceUid = volume.Slices[slice].SopInstanceUid;
        objects.Heatmaps.Should().ContainSingle().Which.SourceSopInstanceUid.Should().Be(sourceUid);
        objects.Overlays.Should().ContainSingle().Which.SourceSopInstanceUid.Should().Be(sourceUid);

        var decoded = SegmentationReader.Read(files[0].Path).ToSourceGrid(volume.Slices);
        var plane = source.Rows * source.Columns;
        var expected = labels.Voxels;
        for (byte label = 1; label <= 3; label++)
        {
            var mask = decoded.TryGetValue(label, out var m) ? m.AsSpan(slice * plane, plane).ToArray() : new byte[plane];
            mask.Select(b => b != 0).Should().Equal(expected.Select(v => v == label), $"segment {label} on slice {slice}");
            decoded.TryGetValue(label, out var all).Should().BeTrue();
            all!.Where((b, n) => b != 0 && n / plane != slice).Should().BeEmpty("nothing lands on other slices");
        }
    }

    [Fact]
    public void Without_an_uncertainty_map_only_the_seg_and_the_overlay_are_written()
    {
        var source = series.Odd;
        var objects = new ResultObjectsWriter().Write(source.Instances(), source.Labels, null, Algorithm);

        objects.Uncertainty.Should().BeNull();
        objects.Heatmaps.Should().BeEmpty();
        objects.Overlays.Should().HaveCount(source.Slices);
        objects.Objects().Select(o => o.FileName).Should().StartWith("seg.dcm").And.HaveCount(1 + source.Slices);
    }

    [Fact]
    public void The_pipeline_algorithm_names_every_model_and_the_profile_within_the_lengths_dicom_allows()
    {
        var algorithm = SegmentationAlgorithm.SpineSegDiff(
            new Dictionary<string, string> { ["spinesegdiff"] = "20261202-s2500-seed3", ["presegmentation"] = "20261202-s3000-seed1" }, "paper S=15 K=10");

        algorithm.Name.Should().Be("SpineSegDiff");
        algorithm.Version.Should().Be("20261202-s3000-seed1 + 20261202-s2500-seed3");
        algorithm.Parameters.Should().Be("models: presegmentation 20261202-s3000-seed1, spinesegdiff 20261202-s2500-seed3; profile paper S=15 K=10");
        SegmentationAlgorithm.SpineSegDiff(new Dictionary<string, string> { ["a"] = new string('v', 40), ["b"] = new string('w', 40) }, null)
            .Version.Should().HaveLength(64);
    }

    private static Volume<byte> SliceOf(Volume<byte> labels, int slice)
    {
        var g = labels.Geometry;
        var plane = g.Size0 * g.Size1;
        var origin = g.Origin + (slice * g.Spacing.Z) * g.Direction.Axis2;
        return new Volume<byte>(new VolumeGeometry(g.Size0, g.Size1, 1, g.Spacing, origin, g.Direction), labels.Voxels.AsSpan(slice * plane, plane).ToArray());
    }

    private static VolumeGeometry Moved(VolumeGeometry g, Vec3 origin) => new(g.Size0, g.Size1, g.Size2, g.Spacing, origin, g.Direction);
}
