using SpineSegDiff.Dicom;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Tests.Support;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>dicom3tools' IOD validator on every SEG variant: no errors, and only the warnings docs/results.md justifies.</summary>
[Collection(SeriesCollection.Name)]
public sealed class DciodvfyTests(SeriesFixture series, ITestOutputHelper output)
{
    /// <summary>
    /// Warnings we accept, each explained in docs/results.md. Any other warning fails the test, so a new one
    /// is looked at rather than ignored.
    /// </summary>
    private static readonly string[] JustifiedWarnings =
    [
    ];

    [Theory]
    [MemberData(nameof(SegVariant.Names), MemberType = typeof(SegVariant))]
    public async Task Dciodvfy_reports_no_errors_and_only_justified_warnings(string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var result = await Tools.DciodvfyAsync(seg.Path);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        var warnings = lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).ToList();
        output.WriteLine($"{variant}: {errors.Count} errors, {warnings.Count} warnings, exit {result.ExitCode}");
        output.WriteLine(result.Output);
        errors.Should().BeEmpty(result.ToString());
        result.ExitCode.Should().Be(0, result.ToString());
        warnings.Where(w => !JustifiedWarnings.Any(w.Contains)).Should().BeEmpty("every dciodvfy warning must be justified in docs/results.md");
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
