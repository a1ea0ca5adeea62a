using SpineSegDiff.Dicom;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Tests.Support;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>dicom3tools' IOD validator on every SEG variant: no errors, and only the warnings docs/results.md justifies.</summary>
[Collection(SeriesCollection.Name)]
public sealed class DciodvfyTests(SeriesFixture series, ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(SegVariant.Names), MemberType = typeof(SegVariant))]
    public async Task Dciodvfy_reports_no_errors_and_only_justified_warnings(string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        await DciodvfyCheck.AssertValidAsync(seg.Path, variant, output);
    }

    [Fact]
    public async Task Dciodvfy_would_catch_a_seg_without_content_label_or_algorithm_name()
    {
        // The check above must be able to fail: the same SEG without two Type 1 attributes is an error.
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, "odd-central", temp.Path);
        var broken = seg.Result.Dataset.Clone();
        broken.Remove(DicomTags.ContentLabel);
        broken.GetSequence(DicomTags.SegmentSequence)!.Items[0].Remove(DicomTags.SegmentAlgorithmName);
        var result = await Tools.DciodvfyAsync(SegBreaker.Save(broken, temp.Combine("broken.dcm")));
        output.WriteLine(result.Output);
        result.Output.Should().Contain("Error").And.Contain("ContentLabel").And.Contain("SegmentAlgorithmName");
    }
}
