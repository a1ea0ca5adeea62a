using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Support;

/// <summary>dicom3tools' IOD validator: no errors, and only the warnings docs/results.md justifies.</summary>
public static class DciodvfyCheck
{
    /// <summary>
    /// Warnings we accept, each explained in docs/results.md. Any other warning fails the test, so a new one
    /// is looked at rather than ignored.
    /// </summary>
    private static readonly string[] JustifiedWarnings =
    [
    ];

    public static async Task AssertValidAsync(string path, string name, ITestOutputHelper output)
    {
        var result = await Tools.DciodvfyAsync(path);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        var warnings = lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).ToList();
        output.WriteLine($"{name}: {errors.Count} errors, {warnings.Count} warnings, exit {result.ExitCode}");
        output.WriteLine(result.Output);
        errors.Should().BeEmpty(result.ToString());
        result.ExitCode.Should().Be(0, result.ToString());
        warnings.Where(w => !JustifiedWarnings.Any(w.Contains)).Should().BeEmpty("every dciodvfy warning must be justified in docs/results.md");
    }
}
