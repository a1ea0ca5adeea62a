using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.SecondaryCapture;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Results.Tests.Support;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>
/// The FRACTIONAL uncertainty SEG and the multi-slice Secondary Capture series, read by both independent readers
/// (pydicom and dcmjs) with the same checks as the BINARY SEG, and the breakages each check must catch.
/// </summary>
[Collection(SeriesCollection.Name)]
public sealed class IndependentFractionalAndScTests(SeriesFixture series)
{
    public static TheoryData<string, string, string> FractionalVariants()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var reader in new[] { IndependentVerifiers.Pydicom, IndependentVerifiers.Dcmjs })
        {
            data.Add(reader, "odd", "central");
            data.Add(reader, "odd", "all");
            data.Add(reader, "phantom", "central");
        }
        return data;
    }

    public static TheoryData<string, string, string> ScVariants()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var reader in new[] { IndependentVerifiers.Pydicom, IndependentVerifiers.Dcmjs })
        {
            data.Add(reader, "odd", "heatmap");
            data.Add(reader, "odd", "overlay");
            data.Add(reader, "phantom", "overlay");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FractionalVariants))]
    public async Task The_verifier_accepts_the_fractional_seg(string reader, string which, string slices)
    {
        using var temp = new TempDirectory();
        var (seg, expected) = WriteFractional(which, slices, temp);
        var result = await IndependentVerifiers.VerifySegAsync(reader, seg.Path, expected, "1=*", seg.Source, temp);
        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().StartWith($"OK {seg.Result.Frames.Count} frames", result.ToString());
        seg.Result.Frames.Should().HaveCount(slices == "all" ? seg.Source.Slices : 1);
    }

    [Theory]
    [MemberData(nameof(IndependentVerifiers.Readers), MemberType = typeof(IndependentVerifiers))]
    public async Task The_verifier_flags_fractional_values_with_their_bits_reversed(string reader)
    {
        using var temp = new TempDirectory();
        var (seg, expected) = WriteFractional("odd", "all", temp);
        var broken = SegBreaker.Save(SegBreaker.WrongBitOrder(seg), temp.Combine("reversed.dcm"));
        var result = await IndependentVerifiers.VerifySegAsync(reader, broken, expected, "1=*", seg.Source, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("pixels differ from the expected values");
    }

    [Theory]
    [MemberData(nameof(IndependentVerifiers.Readers), MemberType = typeof(IndependentVerifiers))]
    public async Task The_verifier_flags_fractional_frames_shifted_by_a_slice(string reader)
    {
        using var temp = new TempDirectory();
        var (seg, expected) = WriteFractional("odd", "all", temp);
        var broken = SegBreaker.Save(SegBreaker.ShiftPositionsBySlice(seg), temp.Combine("shifted.dcm"));
        var result = await IndependentVerifiers.VerifySegAsync(reader, broken, expected, "1=*", seg.Source, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("ImagePositionPatient");
    }

    [Theory]
    [MemberData(nameof(IndependentVerifiers.Readers), MemberType = typeof(IndependentVerifiers))]
    public async Task The_verifier_flags_fractional_frames_on_shuffled_source_images(string reader)
    {
        using var temp = new TempDirectory();
        var (seg, expected) = WriteFractional("odd", "all", temp);
        var broken = SegBreaker.Save(SegBreaker.ShuffleSourceReferences(seg), temp.Combine("shuffled.dcm"));
        var result = await IndependentVerifiers.VerifySegAsync(reader, broken, expected, "1=*", seg.Source, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("differs from its source image's");
    }

    [Theory]
    [MemberData(nameof(ScVariants))]
    public async Task The_verifier_accepts_the_secondary_captures_of_every_slice(string reader, string which, string kind)
    {
        using var temp = new TempDirectory();
        var (source, paths) = WriteScs(which, kind, temp);
        paths.Should().HaveCount(source.Slices);
        // Files in reverse so the verifier, not the argument order, establishes the slice order.
        var result = await IndependentVerifiers.VerifyScAsync(reader, paths.AsEnumerable().Reverse(), source);
        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().StartWith($"OK {source.Slices} images", result.ToString());
    }

    [Theory]
    [MemberData(nameof(IndependentVerifiers.Readers), MemberType = typeof(IndependentVerifiers))]
    public async Task The_verifier_flags_a_secondary_capture_of_an_unknown_source_image(string reader)
    {
        using var temp = new TempDirectory();
        var (source, paths) = WriteScs("odd", "overlay", temp);
        var ds = DicomFile.Open(paths[1]).Dataset;
        ds.GetSequence(DicomTags.SourceImageSequence)!.Items[0].SetString(DicomTags.ReferencedSOPInstanceUID, "2.25.1234");
        SecondaryCaptureWriter.Save(ds, paths[1]);
        var result = await IndependentVerifiers.VerifyScAsync(reader, paths, source);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("referenced source image 2.25.1234 is not in the source series");
    }

    [Theory]
    [MemberData(nameof(IndependentVerifiers.Readers), MemberType = typeof(IndependentVerifiers))]
    public async Task The_verifier_flags_instance_numbers_out_of_slice_order(string reader)
    {
        using var temp = new TempDirectory();
        var (source, paths) = WriteScs("odd", "heatmap", temp);
        for (var i = 0; i < 2; i++)
        {
            var ds = DicomFile.Open(paths[i]).Dataset;
            ds.SetIntegerString(DicomTags.InstanceNumber, 2 - i);
            SecondaryCaptureWriter.Save(ds, paths[i]);
        }
        var result = await IndependentVerifiers.VerifyScAsync(reader, paths, source);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("Instance Numbers do not follow the source slice order");
    }

    [Theory]
    [MemberData(nameof(IndependentVerifiers.Readers), MemberType = typeof(IndependentVerifiers))]
    public async Task The_verifier_flags_a_secondary_capture_in_the_source_series(string reader)
    {
        using var temp = new TempDirectory();
        var (source, paths) = WriteScs("odd", "overlay", temp);
        var ds = DicomFile.Open(paths[0]).Dataset;
        ds.SetString(DicomTags.SeriesInstanceUID, DicomFile.Open(source.Files[0]).Dataset.GetString(DicomTags.SeriesInstanceUID)!);
        SecondaryCaptureWriter.Save(ds, paths[0]);
        var result = await IndependentVerifiers.VerifyScAsync(reader, paths, source);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("reuses the source SeriesInstanceUID").And.Contain("series, not one");
    }

    /// <summary>The FRACTIONAL SEG and the bytes it should store: round(value x 255) on covered slices, 0 elsewhere.</summary>
    private (WrittenSeg Seg, byte[] Expected) WriteFractional(string which, string slices, TempDirectory temp)
    {
        var source = series.ByName(which);
        var map = WrittenResults.Uncertainty(source);
        var selection = slices == "all" ? SourceSliceSelection.All : SourceSliceSelection.Central;
        var (result, path) = WrittenResults.WriteUncertaintySeg(source, map, selection, temp.Path);
        var plane = source.Rows * source.Columns;
        var expected = new byte[map.Voxels.Length];
        foreach (var slice in result.SourceSlices)
        {
            for (var n = slice * plane; n < (slice + 1) * plane; n++)
            {
                expected[n] = (byte)Math.Round(map.Voxels[n] * 255.0, MidpointRounding.AwayFromZero);
            }
        }
        var seg = new WrittenSeg(source, new SegVariant(which, slices), path, result, new Volume<byte>(source.Labels.Geometry, expected));
        return (seg, expected);
    }

    private (SourceSeries Source, List<string> Paths) WriteScs(string which, string kind, TempDirectory temp)
    {
        var source = series.ByName(which);
        var writer = new SecondaryCaptureWriter();
        var images = kind == "heatmap"
            ? writer.WriteUncertaintyHeatmap(source.Instances(), WrittenResults.Uncertainty(source), SourceSliceSelection.All)
            : writer.WriteSegmentationOverlay(source.Instances(), source.Labels, SourceSliceSelection.All);
        return (source, images.Select(i => WrittenResults.WriteScs(i, temp.Path, kind).Path).ToList());
    }
}
