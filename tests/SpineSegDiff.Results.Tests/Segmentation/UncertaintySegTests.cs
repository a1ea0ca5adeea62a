using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Results.Tests.Support;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>The FRACTIONAL (PROBABILITY) SEG carrying the uncertainty heatmap.</summary>
[Collection(SeriesCollection.Name)]
public sealed class UncertaintySegTests(SeriesFixture series, ITestOutputHelper output)
{
    public static TheoryData<string, string> Variants => new()
    {
        { "odd", "central" }, { "odd", "all" }, { "phantom", "central" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Our_reader_gives_back_the_map_within_one_step_of_255(string which, string slices)
    {
        using var temp = new TempDirectory();
        var source = series.ByName(which);
        var map = WrittenResults.Uncertainty(source);
        var selection = slices == "all" ? SourceSliceSelection.All : SourceSliceSelection.Central;
        var (result, path) = WrittenResults.WriteUncertaintySeg(source, map, selection, temp.Path);

        var decoded = SegmentationReader.Read(path);
        decoded.Kind.Should().Be(SegmentationKind.Fractional);
        decoded.FractionalType.Should().Be("PROBABILITY");
        decoded.MaximumFractionalValue.Should().Be(255);
        decoded.Segments.Should().ContainSingle().Which.Label.Should().Be("AI uncertainty");
        decoded.Frames.Should().HaveCount(result.SourceSlices.Count, "one frame per covered slice, even where the map is low");

        var grid = decoded.ToSourceGrid(SeriesVolume.Build(source.Instances()).Slices)[1];
        var plane = source.Rows * source.Columns;
        var covered = result.SourceSlices.ToHashSet();
        var worst = 0.0;
        for (var n = 0; n < grid.Length; n++)
        {
            var expected = covered.Contains(n / plane) ? map.Voxels[n] : 0f;
            worst = Math.Max(worst, Math.Abs(grid[n] / 255.0 - expected));
        }
        worst.Should().BeLessThanOrEqualTo(0.5 / 255 + 1e-9, "values are rounded to the nearest of 256 steps");
        grid.Should().Contain(255).And.Contain(0);
    }

    [Fact]
    public void The_segment_is_coded_and_the_seg_is_a_new_series_in_the_source_study()
    {
        var source = series.Odd;
        var result = new SegmentationWriter().WriteUncertainty(source.Instances(), WrittenResults.Uncertainty(source), SourceSliceSelection.Central, WrittenResults.Algorithm);
        var ds = result.Dataset;
        var first = source.Instances()[0];
        ds.GetString(DicomTags.SOPClassUID).Should().Be(DicomUids.SegmentationStorage);
        ds.GetString(DicomTags.SegmentationType).Should().Be("FRACTIONAL");
        ds.GetUInt16(DicomTags.BitsAllocated).Should().Be(8);
        ds.GetString(DicomTags.StudyInstanceUID).Should().Be(first.GetString(DicomTags.StudyInstanceUID));
        ds.GetString(DicomTags.FrameOfReferenceUID).Should().Be(first.GetString(DicomTags.FrameOfReferenceUID));
        ds.GetString(DicomTags.SeriesInstanceUID).Should().NotBe(first.GetString(DicomTags.SeriesInstanceUID));
        ds.GetString(DicomTags.SeriesNumber).Should().Be("902");
        var segment = ds.GetSequence(DicomTags.SegmentSequence)!.Items.Should().ContainSingle().Subject;
        CodedConcept.FromSequence(segment, DicomTags.SegmentedPropertyCategoryCodeSequence).Should().Be(SpineCodes.AnatomicalStructure);
        CodedConcept.FromSequence(segment, DicomTags.SegmentedPropertyTypeCodeSequence).Should().Be(SpineCodes.LumbarSpine);
        segment.GetString(DicomTags.SegmentAlgorithmType).Should().Be("AUTOMATIC");
        // 321 x 317 is odd: the single 8-bit frame needs one pad byte.
        ds.GetBytes(DicomTags.PixelData).Length.Should().Be(source.Rows * source.Columns + 1);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(1.01f)]
    [InlineData(-0.01f)]
    public void Values_outside_zero_to_one_are_refused(float bad)
    {
        var source = series.Odd;
        var map = WrittenResults.Uncertainty(source);
        var plane = source.Rows * source.Columns;
        var voxels = (float[])map.Voxels.Clone();
        voxels[plane * (source.Slices / 2) + 17] = bad;
        var act = () => new SegmentationWriter().WriteUncertainty(source.Instances(), new Volume<float>(map.Geometry, voxels), SourceSliceSelection.Central, WrittenResults.Algorithm);
        act.Should().Throw<ArgumentException>().WithMessage("*not in [0, 1]*");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Dciodvfy_reports_no_errors_and_only_justified_warnings(string which, string slices)
    {
        using var temp = new TempDirectory();
        var source = series.ByName(which);
        var selection = slices == "all" ? SourceSliceSelection.All : SourceSliceSelection.Central;
        var (_, path) = WrittenResults.WriteUncertaintySeg(source, WrittenResults.Uncertainty(source), selection, temp.Path);
        await DciodvfyCheck.AssertValidAsync(path, $"{which}-{slices} fractional", output);
    }

    [Fact]
    public async Task Dciodvfy_would_catch_a_fractional_seg_without_maximum_fractional_value()
    {
        // The check above must be able to fail: Maximum Fractional Value is Type 1C, required for FRACTIONAL.
        using var temp = new TempDirectory();
        var source = series.Odd;
        var (result, _) = WrittenResults.WriteUncertaintySeg(source, WrittenResults.Uncertainty(source), SourceSliceSelection.Central, temp.Path);
        var broken = result.Dataset.Clone();
        broken.Remove(DicomTags.MaximumFractionalValue);
        var check = await Tools.DciodvfyAsync(SegBreaker.Save(broken, temp.Combine("no-maximum.dcm")));
        output.WriteLine(check.Output);
        check.Output.Should().Contain("Error").And.Contain("MaximumFractionalValue");
    }
}
