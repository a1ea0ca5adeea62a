using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Results;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Segmentation.Inference;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg seg-from-mask --source SERIES --mask LABELS.mha [--heatmap HEATMAP.mha] --out DIR</c>: writes the DICOM
/// result objects for any label map on the source series' grid (the whole series or some of its slices, e.g. the
/// one-slice mask.mha of <c>spineseg segment</c>), like dcmqi's itkimage2segimage does for its label maps.
/// </summary>
internal static class SegFromMaskCommand
{
    private const string UnspecifiedVersion = "unspecified";

    public static Command Create()
    {
        var source = new Option<string>("--source") { Description = "The source series: a folder of its DICOM files, or one file.", Required = true };
        var mask = new Option<string>("--mask") { Description = "Label map (.mha; 0 background, 1 spinal canal, 2 vertebra, 3 disc) on the source grid: all slices or some.", Required = true };
        var heatmap = new Option<string?>("--heatmap") { Description = "Uncertainty map (.mha, values 0..1) on the mask's grid: adds the fractional SEG and the heatmap Secondary Capture." };
        var output = new Option<string>("--out") { Description = "Output folder (created): seg.dcm, uncertainty-seg.dcm, heatmap-sc-NNN.dcm, overlay-sc-NNN.dcm.", Required = true };
        var algorithm = new Option<string>("--algorithm") { Description = "Segment Algorithm Name.", DefaultValueFactory = _ => SegmentationAlgorithm.SpineSegDiffName };
        var version = new Option<string?>("--algorithm-version") { Description = "Algorithm Version (default: the model versions in a summary.json beside the mask, else \"unspecified\")." };
        var perLevel = new Option<bool>("--per-level") { Description = "One segment per lumbar level (L1..L5, L1-L2..L5-S1) instead of per class; the counting rule is in docs/results.md." };
        var command = new Command("seg-from-mask", "Write a DICOM SEG (and, with a heatmap, the fractional SEG and Secondary Captures) for a label map on a source series.")
        {
            source, mask, heatmap, output, algorithm, version, perLevel,
        };
        command.SetAction((parse, ct) => RunAsync(
            parse.GetValue(source)!, parse.GetValue(mask)!, parse.GetValue(heatmap), parse.GetValue(output)!, parse.GetValue(algorithm)!, parse.GetValue(version), parse.GetValue(perLevel)));
        return command;
    }

    private static async Task<int> RunAsync(string source, string maskPath, string? heatmapPath, string output, string algorithmName, string? algorithmVersion, bool perLevel)
    {
        if (string.IsNullOrWhiteSpace(algorithmName) || algorithmName.Length > 64)
        {
            return await ConsoleReport.ConfigurationErrorsAsync([$"--algorithm must have 1 to 64 characters (got {algorithmName.Length})."]).ConfigureAwait(false);
        }
        if (algorithmVersion is { Length: 0 or > 64 })
        {
            return await ConsoleReport.ConfigurationErrorsAsync([$"--algorithm-version must have 1 to 64 characters (got {algorithmVersion.Length})."]).ConfigureAwait(false);
        }

        SeriesFiles files;
        Volume<byte> labels;
        Volume<float>? heat = null;
        try
        {
            files = SeriesFiles.Load(source);
            labels = MetaImageReader.Read<byte>(maskPath);
            if (heatmapPath is not null)
            {
                heat = MetaImageReader.Read<float>(heatmapPath);
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnsupportedSeriesException or MetaImageFormatException
                                       or OverflowException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"Cannot read the inputs: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.OperationFailed;
        }

        var (version, versionSource) = algorithmVersion is not null ? (algorithmVersion, "--algorithm-version") : VersionBesideMask(maskPath);
        var algorithm = new SegmentationAlgorithm(algorithmName, version, versionSource == "summary.json" ? "models from summary.json beside the mask" : null);
        ResultObjectSet objects;
        try
        {
            objects = new ResultObjectsWriter(new SegmentationWriterOptions { PerLevelSegments = perLevel }).Write(files.Instances, labels, heat, algorithm);
        }
        catch (Exception ex) when (ex is ArgumentException or UnsupportedSeriesException or DicomFormatException)
        {
            await Console.Error.WriteLineAsync($"Cannot write results for {maskPath} on {source}: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.OperationFailed;
        }
        var saved = ResultObjectsWriter.Save(objects, Path.GetFullPath(output));

        var c = CultureInfo.InvariantCulture;
        var seg = objects.Segmentation;
        await Console.Out.WriteLineAsync(string.Create(c,
            $"Source series: {files.Instances.Count} images; the mask covers {seg.SourceSlices.Count} slice(s): {string.Join(", ", seg.SourceSlices.Select(s => s + 1))} (1-based, series order)")).ConfigureAwait(false);
        var empty = seg.EmptySegmentNumbers.Count == 0 ? "none" : string.Join(", ", seg.EmptySegmentNumbers);
        var segments = perLevel ? "13 per-level segments (canal, L1..L5, L1-L2..L5-S1, other vertebrae, other discs)" : "segments 1 spinal canal, 2 vertebrae, 3 discs";
        await Console.Out.WriteLineAsync(string.Create(c,
            $"SEG: {seg.Frames.Count} frames, {segments} (empty: {empty}); algorithm {algorithm.Name} {algorithm.Version} ({versionSource})")).ConfigureAwait(false);
        foreach (var file in saved)
        {
            await Console.Out.WriteLineAsync($"  {file.Kind,-24} {file.Path}").ConfigureAwait(false);
        }
        return ExitCodes.Success;
    }

    /// <summary>The model versions from the summary.json that <c>spineseg segment</c> writes beside mask.mha, if any.</summary>
    private static (string Version, string Source) VersionBesideMask(string maskPath)
    {
        var summary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(maskPath))!, SegmentationFiles.Summary);
        if (!File.Exists(summary))
        {
            return (UnspecifiedVersion, "default");
        }
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(summary));
            if (json.RootElement.TryGetProperty("models", out var models) && models.ValueKind == JsonValueKind.Object)
            {
                var versions = models.EnumerateObject().Where(m => m.Value.ValueKind == JsonValueKind.String)
                    .ToDictionary(m => m.Name, m => m.Value.GetString()!, StringComparer.Ordinal);
                if (versions.Count > 0)
                {
                    return (SegmentationAlgorithm.SpineSegDiff(versions, null).Version, "summary.json");
                }
            }
        }
        catch (JsonException)
        {
            // A summary we cannot read says nothing about the version; the default is honest.
        }
        return (UnspecifiedVersion, "default");
    }
}
