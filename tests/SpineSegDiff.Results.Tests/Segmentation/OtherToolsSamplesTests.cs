using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>SEGs written by highdicom, dcmqi and dcmjs (SegSamples/PROVENANCE.md): our reader decodes them or says why not.</summary>
public sealed class OtherToolsSamplesTests
{
    private static readonly string Samples = Path.Combine(AppContext.BaseDirectory, "SegSamples");

    public static TheoryData<string, string, int, int> DecodableSamples => new()
    {
        // file, kind, frames, segments
        { "highdicom/seg_image_ct_binary.dcm", "Binary", 3, 1 },
        { "highdicom/seg_image_ct_binary_single_frame.dcm", "Binary", 1, 1 },
        { "highdicom/seg_image_ct_binary_overlap.dcm", "Binary", 8, 2 },
        { "highdicom/seg_image_ct_binary_fractional.dcm", "Fractional", 3, 1 },
        { "highdicom/seg_image_cr_binary.dcm", "Binary", 1, 1 },
        { "dcmqi/data_segmentations_23x38x3_seg_label.seg", "Binary", 3, 1 },
        { "dcmqi/data_segmentations_24x38x3_seg_label.seg", "Binary", 3, 1 },
        { "dcmqi/data_segmentations_liver.dcm", "Binary", 3, 1 },
        { "dcmjs/tumor_User1_Manual_Trial1.dcm", "Binary", 13, 2 },
    };

    [Theory]
    [MemberData(nameof(DecodableSamples))]
    public void Binary_and_fractional_samples_decode(string file, string kind, int frames, int segments)
    {
        var decoded = SegmentationReader.Read(Path.Combine(Samples, file));
        decoded.Kind.ToString().Should().Be(kind);
        decoded.Frames.Should().HaveCount(frames);
        decoded.Segments.Should().HaveCount(segments);
        decoded.Frames.Should().OnlyContain(f => f.Pixels.Length == decoded.Rows * decoded.Columns);
        decoded.Frames.Should().OnlyContain(f => decoded.Segments.Any(s => s.Number == f.SegmentNumber));
        decoded.Frames.Should().OnlyContain(f => f.Pixels.All(p => p <= decoded.MaximumFractionalValue));
        decoded.Frames.Should().Contain(f => f.Pixels.Any(p => p != 0), "every sample segments something");
    }

    [Fact]
    public void The_highdicom_single_frame_ct_seg_lands_on_its_source_image()
    {
        var source = DicomFile.Open(Path.Combine(Samples, "highdicom/ct_image.dcm")).Dataset;
        var slices = SeriesVolume.Build([source]).Slices;
        var decoded = SegmentationReader.Read(Path.Combine(Samples, "highdicom/seg_image_ct_binary_single_frame.dcm"));
        var masks = decoded.ToSourceGrid(slices);
        masks.Should().ContainSingle();
        masks.Values.Single().Count(v => v == 1).Should().Be(decoded.Frames.Single().Pixels.Count(v => v == 1)).And.BePositive();
    }

    [Fact]
    public void The_label_map_seg_is_refused_with_a_clear_error()
    {
        var act = () => SegmentationReader.Read(Path.Combine(Samples, "highdicom/seg_image_sm_control_labelmap.dcm"));
        act.Should().Throw<UnsupportedSegmentationException>().WithMessage("*Label Map*not supported*");
    }

    [Fact]
    public void Nothing_in_the_samples_or_pydicoms_broken_segs_crashes_the_reader()
    {
        var files = Directory.EnumerateFiles(Samples, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".dcm", StringComparison.Ordinal) || f.EndsWith(".seg", StringComparison.Ordinal))
            .Concat(PydicomTestFiles("liver_1frame.dcm", "liver_expb_1frame.dcm", "liver.dcm"))
            .ToList();
        files.Should().HaveCountGreaterThan(10);
        foreach (var file in files)
        {
            try
            {
                SegmentationReader.Read(file);
            }
            catch (Exception ex) when (ex is UnsupportedSegmentationException or SegmentationFormatException)
            {
                ex.Message.Should().NotBeNullOrWhiteSpace();
            }
        }
    }

    /// <summary>Test files of Debian's python3-pydicom, which the setup script installs; absent elsewhere.</summary>
    private static IEnumerable<string> PydicomTestFiles(params string[] names) =>
        new[] { "/usr/lib/python3/dist-packages/pydicom/data/test_files" }
            .Where(Directory.Exists)
            .SelectMany(d => names.Select(n => Path.Combine(d, n)))
            .Where(File.Exists);
}
