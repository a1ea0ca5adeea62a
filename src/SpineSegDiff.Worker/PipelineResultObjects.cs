using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Results;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Segmentation.Inference;

namespace SpineSegDiff.Worker;

/// <summary>
/// The DICOM result objects of one pipeline run (SEG, fractional SEG, heatmap and overlay Secondary Captures on the
/// segmented source slice): the one way the worker and <c>spineseg segment --dicom</c> turn a run into files.
/// </summary>
public static class PipelineResultObjects
{
    public static IReadOnlyList<ResultFile> Write(
        IReadOnlyList<DicomDataset> sourceInstances,
        SeriesSegmentationResult run,
        IReadOnlyDictionary<string, string> modelVersions,
        InferenceProfile profile,
        string directory)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(profile);
        var geometry = SegmentationFiles.SliceGeometry(run.Series, run.Slice);
        var objects = new ResultObjectsWriter().Write(
            sourceInstances,
            new Volume<byte>(geometry, run.Result.Labels),
            run.Result.Uncertainty is { } heat ? new Volume<float>(geometry, heat) : null,
            SegmentationAlgorithm.SpineSegDiff(modelVersions, profile.ToString()));
        return ResultObjectsWriter.Save(objects, directory);
    }
}
