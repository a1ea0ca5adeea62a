using System.Text.Json;
using System.Text.Json.Nodes;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Imaging.Rendering;
using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Segmentation.Inference;

/// <summary>
/// The files of one segmentation, as <c>spineseg segment</c> writes them: mask.mha and uncertainty.mha on the source
/// slice's geometry (one-slice volumes with its position, orientation and spacing, so any viewer overlays them on
/// the MR), overlay.png and uncertainty.png previews, and summary.json.
/// </summary>
public static class SegmentationFiles
{
    public const string Mask = "mask.mha";
    public const string Heatmap = "uncertainty.mha";
    public const string Overlay = "overlay.png";
    public const string HeatmapPreview = "uncertainty.png";
    public const string Summary = "summary.json";

    /// <summary>Previews of small images are enlarged to at least this many pixels across.</summary>
    private const int PreviewMinimumSize = 512;

    public const string HeatmapCaption = "uncertainty (bits)";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static IReadOnlyList<string> Write(
        string directory,
        SeriesVolume series,
        SourceSegmentation result,
        SliceSegmentation segmentation,
        InferenceProfile profile,
        int seed,
        IReadOnlyDictionary<string, string> modelVersions,
        StageTimings timings)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(segmentation);
        ArgumentNullException.ThrowIfNull(profile);
        Directory.CreateDirectory(directory);
        var slice = result.Slice;
        int rows = slice.SourceRows, columns = slice.SourceColumns;
        var geometry = SliceGeometry(series, slice);
        var written = new List<string>();

        var maskPath = Path.Combine(directory, Mask);
        MetaImageWriter.Write(maskPath, new Volume<byte>(geometry, result.Labels));
        written.Add(maskPath);
        if (result.Uncertainty is { } heat)
        {
            var heatPath = Path.Combine(directory, Heatmap);
            MetaImageWriter.Write(heatPath, new Volume<float>(geometry, heat));
            written.Add(heatPath);
        }

        var plane = rows * columns;
        var mr = series.Volume.Voxels.AsSpan(slice.SliceIndex * plane, plane);
        var scale = Math.Max(1, (int)Math.Ceiling((double)PreviewMinimumSize / Math.Max(rows, columns)));
        var grey = OverlayRenderer.Greyscale(mr, columns, rows);
        var overlayPath = Path.Combine(directory, Overlay);
        OverlayRenderer.LabelOverlay(grey, result.Labels, scale: scale).SavePng(overlayPath);
        written.Add(overlayPath);
        if (result.Uncertainty is { } heatmap)
        {
            var previewPath = Path.Combine(directory, HeatmapPreview);
            OverlayRenderer.HeatmapOverlay(grey, heatmap, caption: HeatmapCaption, scale: scale, floor: OverlayRenderer.UncertaintyDisplayFloor).SavePng(previewPath);
            written.Add(previewPath);
        }

        var summaryPath = Path.Combine(directory, Summary);
        File.WriteAllText(summaryPath, SummaryJson(result, segmentation, profile, seed, modelVersions, timings).ToJsonString(JsonOptions) + "\n");
        written.Add(summaryPath);
        return written;
    }

    /// <summary>The source slice as a one-slice volume: same origin, row/column directions and spacing as the image.</summary>
    public static VolumeGeometry SliceGeometry(SeriesVolume series, PreprocessedSlice slice)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(slice);
        var g = series.Volume.Geometry;
        return new VolumeGeometry(g.Size0, g.Size1, 1, g.Spacing, slice.Source.ImagePositionPatient, g.Direction);
    }

    private static JsonObject SummaryJson(
        SourceSegmentation result, SliceSegmentation segmentation, InferenceProfile profile, int seed,
        IReadOnlyDictionary<string, string> modelVersions, StageTimings timings)
    {
        var slice = result.Slice;
        var areas = result.ClassAreasMm2();
        var classes = new JsonArray();
        for (byte label = 1; label <= areas.Length; label++)
        {
            classes.Add(new JsonObject { ["label"] = label, ["name"] = SourceSegmentation.StructureName(label), ["areaMm2"] = Math.Round(areas[label - 1], 1) });
        }
        var structures = new JsonArray();
        foreach (var s in result.Structures)
        {
            structures.Add(new JsonObject
            {
                ["structure"] = s.Structure,
                ["index"] = s.Index,
                ["areaMm2"] = Math.Round(s.AreaMm2, 1),
                ["meanUncertainty"] = s.MeanUncertainty is { } mean ? Math.Round(mean, 4) : null,
                ["maxUncertainty"] = s.MaxUncertainty is { } max ? Math.Round(max, 4) : null,
                ["centroidPatientMm"] = new JsonArray(Math.Round(s.CentroidPatient.X, 2), Math.Round(s.CentroidPatient.Y, 2), Math.Round(s.CentroidPatient.Z, 2)),
            });
        }
        var timing = new JsonObject();
        foreach (var (stage, seconds) in timings.ToSeconds())
        {
            timing[stage] = seconds;
        }
        timing["denoiserSteps"] = timings.DenoiserSteps;
        var models = new JsonObject();
        foreach (var (name, version) in modelVersions)
        {
            models[name] = version;
        }
        return new JsonObject
        {
            ["source"] = new JsonObject
            {
                ["sopInstanceUid"] = slice.Source.SopInstanceUid,
                ["sliceIndex"] = slice.SliceIndex,
                ["sliceCount"] = slice.SliceCount,
                ["rows"] = slice.SourceRows,
                ["columns"] = slice.SourceColumns,
                ["pixelSpacingMm"] = new JsonArray(slice.Source.RowSpacing, slice.Source.ColumnSpacing),
            },
            ["profile"] = new JsonObject
            {
                ["name"] = profile.Name,
                ["refined"] = profile.Refine,
                ["samples"] = profile.Refine ? profile.Samples : null,
                ["steps"] = profile.Refine ? profile.Steps : null,
                ["startTimestep"] = profile.Refine ? profile.StartTimestep : null,
                ["fusedSteps"] = profile.Refine ? profile.FusedSteps : null,
                ["eta"] = profile.Refine ? profile.Eta : null,
                ["threshold"] = profile.Threshold,
                ["minimumComponentMm2"] = profile.MinimumComponentMm2,
            },
            ["seed"] = seed,
            ["models"] = models,
            ["labels"] = "0 background, 1 spinal canal, 2 vertebra, 3 intervertebral disc",
            ["classes"] = classes,
            ["uncertaintyUnit"] = segmentation.Uncertainty is null ? null : "bits (binary entropy of the sample-mean probability, max over fused steps and classes)",
            ["structures"] = structures,
            ["timingsSeconds"] = timing,
            ["notice"] = ModelCard.SyntheticDataNotice,
        };
    }
}
