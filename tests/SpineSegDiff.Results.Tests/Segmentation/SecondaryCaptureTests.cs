using System.Text.Json;
using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Imaging.Rendering;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.SecondaryCapture;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Results.Tests.Support;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>The heatmap and segmentation-overlay Secondary Captures.</summary>
[Collection(SeriesCollection.Name)]
public sealed class SecondaryCaptureTests(SeriesFixture series, ITestOutputHelper output)
{
    private static readonly string InspectScript = Path.Combine(AppContext.BaseDirectory, "Verifier", "inspect_sc.py");

    public static TheoryData<string, string> Variants => new()
    {
        { "odd", "heatmap" }, { "odd", "overlay" }, { "phantom", "heatmap" }, { "phantom", "overlay" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Dciodvfy_reports_no_errors_and_only_justified_warnings(string which, string kind)
    {
        using var temp = new TempDirectory();
        var (_, path) = WrittenResults.WriteScs(Central(which, kind), temp.Path, kind);
        await DciodvfyCheck.AssertValidAsync(path, $"{which} {kind} SC", output);
    }

    [Fact]
    public async Task Dciodvfy_would_catch_a_secondary_capture_without_conversion_type()
    {
        // The check above must be able to fail: Conversion Type is Type 1 in the SC Equipment module.
        using var temp = new TempDirectory();
        var broken = Central("odd", "overlay").Dataset.Clone();
        broken.Remove(DicomTags.ConversionType);
        var path = temp.Combine("no-conversion-type.dcm");
        SecondaryCaptureWriter.Save(broken, path);
        var result = await Tools.DciodvfyAsync(path);
        output.WriteLine(result.Output);
        result.Output.Should().Contain("Error").And.Contain("ConversionType");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Pydicom_reads_the_rgb_image_and_finds_the_burned_in_caption(string which, string kind)
    {
        using var temp = new TempDirectory();
        var source = series.ByName(which);
        var (image, path) = WrittenResults.WriteScs(Central(which, kind), temp.Path, kind);
        // A preview for people reviewing the test run (bin/.../artifacts), as the SC looks in a viewer.
        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts"));
        image.Image.SavePng(Path.Combine(AppContext.BaseDirectory, "artifacts", $"sc-{which}-{kind}.png"));
        // The caption strip starts below the source image's rows.
        var result = await ExternalProcess.RunAsync(Tools.SystemPython, [InspectScript, path, source.Rows.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(2));
        result.ExitCode.Should().Be(0, result.ToString());
        using var report = JsonDocument.Parse(result.StandardOutput);
        var r = report.RootElement;
        r.GetProperty("sop_class").GetString().Should().Be(DicomUids.SecondaryCaptureImageStorage);
        r.GetProperty("rows").GetInt32().Should().Be(image.Image.Height);
        r.GetProperty("columns").GetInt32().Should().Be(image.Image.Width);
        r.GetProperty("samples").GetInt32().Should().Be(3);
        r.GetProperty("photometric").GetString().Should().Be("RGB");
        r.GetProperty("planar").GetInt32().Should().Be(0);
        r.GetProperty("bits_allocated").GetInt32().Should().Be(8);
        r.GetProperty("burned_in").GetString().Should().Be("YES");
        r.GetProperty("conversion_type").GetString().Should().Be("WSD");
        r.GetProperty("series_description").GetString().Should().EndWith("not for diagnosis");
        r.GetProperty("pixel_bytes").GetInt32().Should().BeInRange(r.GetProperty("expected_bytes").GetInt32(), r.GetProperty("expected_bytes").GetInt32() + 1);
        var caption = kind == "heatmap" ? SecondaryCaptureWriter.HeatmapCaption : SecondaryCaptureWriter.OverlayCaption;
        r.GetProperty("caption_white_pixels").GetInt32().Should().Be(CaptionPixels(caption),
            "every lit pixel of the 2x-scaled caption, and nothing else, is white in the strip");
        image.Image.Height.Should().BeGreaterThan(source.Rows, "the caption has its own strip below the image");
        image.Image.Width.Should().BeGreaterThanOrEqualTo(BitmapFont.MeasureWidth(caption, 2), "the caption is not cut");
    }

    [Fact]
    public void The_heatmap_colours_only_values_above_the_display_floor()
    {
        var source = series.Odd;
        var map = WrittenResults.Uncertainty(source);
        var sc = Central("odd", "heatmap");
        var slice = SeriesVolume.Build(source.Instances()).Volume.Voxels.AsSpan(sc.SourceSliceIndex * source.Rows * source.Columns, source.Rows * source.Columns);
        var grey = OverlayRenderer.Greyscale(slice, source.Columns, source.Rows);
        int tinted = 0, untouched = 0;
        for (var y = 0; y < source.Rows; y++)
        {
            for (var x = 0; x < source.Columns; x++)
            {
                var heat = map.Voxels[(sc.SourceSliceIndex * source.Rows + y) * source.Columns + x];
                if (heat <= 0.3f)
                {
                    sc.Image[x, y].Should().Be(grey[x, y], $"heat {heat} at ({x}, {y}) is below the floor");
                    untouched++;
                }
                else if (heat >= 0.9f)
                {
                    sc.Image[x, y].Should().NotBe(grey[x, y]);
                    tinted++;
                }
            }
        }
        tinted.Should().BeGreaterThan(100);
        untouched.Should().BeGreaterThan(100);
    }

    [Fact]
    public void Each_covered_slice_gets_an_instance_of_one_new_series_in_the_source_study()
    {
        var source = series.Odd;
        var instances = source.Instances();
        var scs = new SecondaryCaptureWriter().WriteSegmentationOverlay(instances, source.Labels, SourceSliceSelection.All);
        scs.Select(s => s.SourceSliceIndex).Should().Equal(Enumerable.Range(0, source.Slices));
        scs.Select(s => s.SeriesInstanceUid).Distinct().Should().ContainSingle().Which.Should().NotBe(instances[0].GetString(DicomTags.SeriesInstanceUID));
        scs.Select(s => s.Dataset.GetString(DicomTags.InstanceNumber)).Should().Equal(Enumerable.Range(1, source.Slices).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var sc = scs[2].Dataset;
        var sourceImage = instances.Single(i => i.GetString(DicomTags.SOPInstanceUID) == scs[2].SourceSopInstanceUid);
        sc.GetString(DicomTags.StudyInstanceUID).Should().Be(sourceImage.GetString(DicomTags.StudyInstanceUID));
        sc.GetString(DicomTags.PatientName).Should().Be("TEST^Müller");
        sc.GetString(DicomTags.AccessionNumber).Should().Be("ACC42");
        sc.GetString(DicomTags.SeriesDescription).Should().Be("AI segmentation overlay - not for diagnosis");
        sc.GetStrings(DicomTags.PatientOrientation).Should().Equal("P", "F");
        sc.Contains(DicomTags.FrameOfReferenceUID).Should().BeFalse("a Secondary Capture has no patient coordinates");
        sc.Contains(DicomTags.PixelSpacing).Should().BeFalse("the canvas, with its caption strip, is not patient geometry");
        sc.GetSequence(DicomTags.SourceImageSequence)!.Items[0].GetString(DicomTags.ReferencedSOPInstanceUID).Should().Be(scs[2].SourceSopInstanceUid);
        // The overlay is the label map's: a disc pixel of the source slice is tinted red.
        var plane = source.Rows * source.Columns;
        var disc = Array.IndexOf(source.Labels.Voxels, (byte)3, 2 * plane) - 2 * plane;
        disc.Should().BeInRange(0, plane - 1);
        var pixel = scs[2].Image[disc % source.Columns, disc / source.Columns];
        pixel.R.Should().BeGreaterThan(pixel.G);
    }

    [Fact]
    public void The_heatmap_series_says_not_for_diagnosis()
    {
        var sc = Central("odd", "heatmap");
        sc.Dataset.GetString(DicomTags.SeriesDescription).Should().Be("AI uncertainty heatmap - not for diagnosis");
        sc.Dataset.GetString(DicomTags.SeriesNumber).Should().Be("903");
    }

    private SecondaryCaptureImage Central(string which, string kind)
    {
        var source = series.ByName(which);
        var writer = new SecondaryCaptureWriter();
        var written = kind == "heatmap"
            ? writer.WriteUncertaintyHeatmap(source.Instances(), WrittenResults.Uncertainty(source), SourceSliceSelection.Central)
            : writer.WriteSegmentationOverlay(source.Instances(), source.Labels, SourceSliceSelection.Central);
        return written.Should().ContainSingle().Subject;
    }

    /// <summary>Lit font pixels of the caption at text scale 2: each set glyph cell is 2 x 2 pixels.</summary>
    private static int CaptionPixels(string caption)
    {
        var cells = 0;
        foreach (var c in caption)
        {
            for (var row = 0; row < BitmapFont.GlyphHeight; row++)
            {
                for (var column = 0; column < BitmapFont.GlyphWidth; column++)
                {
                    cells += BitmapFont.IsSet(c, column, row) ? 1 : 0;
                }
            }
        }
        return cells * 4;
    }
}
