using SpineSegDiff.Dicom;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Tests.Support;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>
/// pydicom plus a small pure-Python verifier (Verifier/verify_seg.py), sharing no code with our writer, checks
/// every frame's segment, source reference, plane and bits; and catches SEGs broken the ways real writers broke them.
/// </summary>
[Collection(SeriesCollection.Name)]
public sealed class IndependentVerifierTests(SeriesFixture series)
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Verifier", "verify_seg.py");
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Theory]
    [MemberData(nameof(SegVariant.Names), MemberType = typeof(SegVariant))]
    public async Task The_verifier_accepts_every_seg_we_write(string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var result = await VerifyAsync(seg, seg.Path, temp);
        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().StartWith($"OK {seg.Result.Frames.Count} frames", result.ToString());
    }

    [Theory]
    [InlineData("odd-all")]
    [InlineData("phantom-central")]
    public async Task The_verifier_flags_a_wrong_bit_order(string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var broken = SegBreaker.Save(SegBreaker.WrongBitOrder(seg), temp.Combine("msb-first.dcm"));
        var result = await VerifyAsync(seg, broken, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("pixels differ from the expected mask");
    }

    [Theory]
    [InlineData("odd-all")]
    [InlineData("phantom-all")]
    public async Task The_verifier_flags_shuffled_source_references(string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var broken = SegBreaker.Save(SegBreaker.ShuffleSourceReferences(seg), temp.Combine("shuffled.dcm"));
        var result = await VerifyAsync(seg, broken, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("ImagePositionPatient").And.Contain("differs from its source image's");
    }

    [Theory]
    [InlineData("odd-all")]
    [InlineData("phantom-central")]
    public async Task The_verifier_flags_frame_positions_shifted_by_a_slice(string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var broken = SegBreaker.Save(SegBreaker.ShiftPositionsBySlice(seg), temp.Combine("shifted.dcm"));
        var result = await VerifyAsync(seg, broken, temp);
        result.ExitCode.Should().Be(1, result.ToString());
        result.StandardOutput.Should().Contain("ImagePositionPatient");
    }

    [Fact]
    public async Task The_verifier_flags_frames_padded_to_whole_bytes()
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
        var result = await VerifyAsync(seg, SegBreaker.Save(ds, temp.Combine("padded.dcm")), temp);
        result.ExitCode.Should().Be(1, result.ToString());
    }

    private static async Task<ProcessResult> VerifyAsync(WrittenSeg seg, string segPath, TempDirectory temp)
    {
        var labels = temp.Combine("expected-labels.raw");
        await File.WriteAllBytesAsync(labels, seg.ExpectedLabels());
        return await ExternalProcess.RunAsync(Tools.SystemPython, [Script, segPath, labels, "1=1,2=2,3=3", .. seg.Source.Files], Timeout);
    }
}
