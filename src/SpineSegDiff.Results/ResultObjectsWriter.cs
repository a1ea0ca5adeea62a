using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Results.SecondaryCapture;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results;

/// <summary>The DICOM objects of one segmentation result, each in its own new series of the source study.</summary>
/// <param name="Segmentation">The BINARY SEG (spinal canal, vertebrae, discs).</param>
/// <param name="Uncertainty">The FRACTIONAL uncertainty SEG, when an uncertainty map was given.</param>
/// <param name="Heatmaps">Heatmap Secondary Captures, one per covered slice (none without an uncertainty map).</param>
/// <param name="Overlays">Segmentation overlay Secondary Captures, one per covered slice.</param>
public sealed record ResultObjectSet(
    SegmentationResult Segmentation,
    SegmentationResult? Uncertainty,
    IReadOnlyList<SecondaryCaptureImage> Heatmaps,
    IReadOnlyList<SecondaryCaptureImage> Overlays)
{
    /// <summary>Every object with the file name it is saved under.</summary>
    public IEnumerable<(ResultObjectKind Kind, string FileName, DicomDataset Dataset)> Objects()
    {
        yield return (ResultObjectKind.Segmentation, "seg.dcm", Segmentation.Dataset);
        if (Uncertainty is not null)
        {
            yield return (ResultObjectKind.UncertaintySegmentation, "uncertainty-seg.dcm", Uncertainty.Dataset);
        }
        for (var i = 0; i < Heatmaps.Count; i++)
        {
            yield return (ResultObjectKind.HeatmapSecondaryCapture, FormattableString.Invariant($"heatmap-sc-{i + 1:D3}.dcm"), Heatmaps[i].Dataset);
        }
        for (var i = 0; i < Overlays.Count; i++)
        {
            yield return (ResultObjectKind.OverlaySecondaryCapture, FormattableString.Invariant($"overlay-sc-{i + 1:D3}.dcm"), Overlays[i].Dataset);
        }
    }
}

public enum ResultObjectKind
{
    Segmentation,
    UncertaintySegmentation,
    HeatmapSecondaryCapture,
    OverlaySecondaryCapture,
}

/// <summary>One saved result object: what it is, where it lies, and its identity for export and audit.</summary>
public sealed record ResultFile(ResultObjectKind Kind, string Path, string SopClassUid, string SeriesInstanceUid, string SopInstanceUid);

/// <summary>
/// Writes every DICOM object of one result (BINARY SEG; with an uncertainty map also the FRACTIONAL SEG and the
/// heatmap Secondary Capture; always the overlay Secondary Capture) over the slices the maps cover. The one path for
/// <c>spineseg seg-from-mask</c>, <c>spineseg segment --dicom</c> and the worker, so they cannot drift apart.
/// </summary>
public sealed class ResultObjectsWriter
{
    private readonly SegmentationWriter _segmentations;
    private readonly SecondaryCaptureWriter _secondaryCaptures;

    public ResultObjectsWriter(SegmentationWriterOptions? segmentation = null, SecondaryCaptureOptions? secondaryCapture = null)
    {
        _segmentations = new SegmentationWriter(segmentation);
        _secondaryCaptures = new SecondaryCaptureWriter(secondaryCapture);
    }

    /// <summary>
    /// Builds the objects for maps that cover some or all slices of the source series (see
    /// <see cref="SourceGridPlacement.Place"/> for what "on the series" means).
    /// </summary>
    /// <exception cref="ArgumentException">The maps do not lie on the series or hold values outside their range.</exception>
    public ResultObjectSet Write(
        IReadOnlyList<DicomDataset> sourceInstances,
        Volume<byte> labels,
        Volume<float>? uncertainty,
        SegmentationAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(sourceInstances);
        var maps = SourceGridPlacement.Place(SeriesVolume.Build(sourceInstances), labels, uncertainty);
        var segmentation = _segmentations.Write(sourceInstances, maps.Labels, maps.Covered, algorithm);
        var overlays = _secondaryCaptures.WriteSegmentationOverlay(sourceInstances, maps.Labels, maps.Covered);
        if (maps.Uncertainty is not { } heat)
        {
            return new ResultObjectSet(segmentation, null, [], overlays);
        }
        var fractional = _segmentations.WriteUncertainty(sourceInstances, heat, maps.Covered, algorithm);
        var heatmaps = _secondaryCaptures.WriteUncertaintyHeatmap(sourceInstances, heat, maps.Covered);
        return new ResultObjectSet(segmentation, fractional, heatmaps, overlays);
    }

    /// <summary>
    /// Saves every object into <paramref name="directory"/> (created) under fixed names (never UIDs): seg.dcm,
    /// uncertainty-seg.dcm, heatmap-sc-NNN.dcm, overlay-sc-NNN.dcm. Each file appears whole or not at all.
    /// </summary>
    public static IReadOnlyList<ResultFile> Save(ResultObjectSet objects, string directory)
    {
        ArgumentNullException.ThrowIfNull(objects);
        Directory.CreateDirectory(directory);
        var saved = new List<ResultFile>();
        foreach (var (kind, fileName, dataset) in objects.Objects())
        {
            var path = Path.Combine(directory, fileName);
            var partial = path + ".partial";
            DerivedSeries.Save(dataset, partial);
            File.Move(partial, path, overwrite: true);
            saved.Add(new ResultFile(kind, path, dataset.GetString(DicomTags.SOPClassUID)!, dataset.GetString(DicomTags.SeriesInstanceUID)!, dataset.GetString(DicomTags.SOPInstanceUID)!));
        }
        return saved;
    }
}
