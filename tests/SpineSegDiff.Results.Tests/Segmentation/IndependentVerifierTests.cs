using SpineSegDiff.Dicom;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Tests.Support;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>
/// Two independent readers, each with a small verifier sharing no code with our writer or with each other: pydicom
/// (Verifier/verify_seg.py) and dcmjs, the library OHIF reads SEGs with (tests/viewer/verify_seg.mjs). Each checks
/// every frame's segment, source reference, plane and bits; and catches SEGs broken the ways real writers broke them.
/// </summary>
[Collection(SeriesCollection.Name)]
public sealed class IndependentVerifierTests(SeriesFixture series)
{
    public static TheoryData<string, string> ReadersAndVariants()
    {
        var data = new TheoryData<string, string>();
        foreach (var reader in new[] { IndependentVerifiers.Pydicom, IndependentVerifiers.Dcmjs })
        {
            foreach (var variant in SegVariant.Names)
            {
                data.Add(reader, variant);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ReadersAndVariants))]
    public async Task The_verifier_accepts_every_seg_we_write(string reader, string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var result = await VerifyAsync(reader, seg, seg.Path, temp);
        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().StartWith($"OK {seg.Result.Frames.Count} frames", result.ToString());
    }

    [Theory]
    [InlineData(IndependentVerifiers.Pydicom, "odd-all")]
    [InlineData(IndependentVerifiers.Dcmjs, "odd-all")]
    [InlineData(IndependentVerifiers.Pydicom, "phantom-central")]
    [InlineData(IndependentVerifiers.Dcmjs, "phantom-central")]
    public async Task The_verifier_flags_a_wrong_bit_order(string reader, string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var broken = SegBreaker.Save(SegBreaker.WrongBitOrder(seg), temp.Combine("msb-first.dcm"));
        var result = await VerifyAsync(reader, seg, broken, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("pixels differ from the expected mask");
    }

    [Theory]
    [InlineData(IndependentVerifiers.Pydicom, "odd-all")]
    [InlineData(IndependentVerifiers.Dcmjs, "odd-all")]
    [InlineData(IndependentVerifiers.Pydicom, "phantom-all")]
    [InlineData(IndependentVerifiers.Dcmjs, "phantom-all")]
    public async Task The_verifier_flags_shuffled_source_references(string reader, string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var broken = SegBreaker.Save(SegBreaker.ShuffleSourceReferences(seg), temp.Combine("shuffled.dcm"));
        var result = await VerifyAsync(reader, seg, broken, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("ImagePositionPatient").And.Contain("differs from its source image's");
    }

    [Theory]
    [InlineData(IndependentVerifiers.Pydicom, "odd-all")]
    [InlineData(IndependentVerifiers.Dcmjs, "odd-all")]
    [InlineData(IndependentVerifiers.Pydicom, "phantom-central")]
    [InlineData(IndependentVerifiers.Dcmjs, "phantom-central")]
    public async Task The_verifier_flags_frame_positions_shifted_by_a_slice(string reader, string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var broken = SegBreaker.Save(SegBreaker.ShiftPositionsBySlice(seg), temp.Combine("shifted.dcm"));
        var result = await VerifyAsync(reader, seg, broken, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("ImagePositionPatient");
    }

    [Theory]
    [MemberData(nameof(IndependentVerifiers.Readers), MemberType = typeof(IndependentVerifiers))]
    public async Task The_verifier_flags_frames_padded_to_whole_bytes(string reader)
    {
        // dcmqi #341: each frame padded to a byte boundary. Only visible when Rows x Columns % 8 != 0.
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, "odd-all", temp.Path);
        var ds = seg.Result.Dataset.Clone();
        var plane = seg.Source.Rows * seg.Source.Columns;
        var packed = ds.GetBytes(DicomTags.PixelData).ToArray();
        var frames = seg.Result.Frames.Count;
        var padded = new byte[(plane + 7) / 8 * frames + 1 & ~1];
        for (var f = 0; f < frames; f++)
        {
            var frame = SpineSegDiff.Results.Segmentation.BinaryFramePacking.Unpack(packed, f, plane);
            SpineSegDiff.Results.Segmentation.BinaryFramePacking.Pack([frame], plane).AsSpan(0, (plane + 7) / 8).CopyTo(padded.AsSpan(f * ((plane + 7) / 8)));
        }
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, padded);
        var result = await VerifyAsync(reader, seg, SegBreaker.Save(ds, temp.Combine("padded.dcm")), temp);
        result.ExitCode.Should().Be(1, result.ToString());
    }

    private static Task<ProcessResult> VerifyAsync(string reader, WrittenSeg seg, string segPath, TempDirectory temp) =>
        IndependentVerifiers.VerifySegAsync(reader, segPath, seg.ExpectedLabels(), "1=1,2=2,3=3", seg.Source, temp);
}
