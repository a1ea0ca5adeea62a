using System.Diagnostics;
using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Preprocessing;

namespace SpineSegDiff.Segmentation.Inference;

/// <summary>Everything one series' segmentation produced, from the source volume to the source-grid result.</summary>
public sealed record SeriesSegmentationResult(
    SeriesVolume Series,
    PreprocessedSlice Slice,
    SliceSegmentation Segmentation,
    SourceSegmentation Result,
    StageTimings Timings);

/// <summary>
/// One series from DICOM instances to a result on its central slice: preprocessing (the paper's: RAS+, central
/// sagittal slice, 98th percentile, 1 mm, 320 x 320), presegmentation, refinement, post-processing and mapping back.
/// The one path the CLI, the benchmark and the worker share. Throws <see cref="UnsupportedSeriesException"/> for a
/// series it cannot segment.
/// </summary>
public sealed class SeriesSegmentationPipeline(SegmentationModels models)
{
    public SeriesSegmentationResult Run(
        IReadOnlyList<DicomDataset> instances,
        InferenceProfile profile,
        int seed,
        IProgress<int>? stepsDone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instances);
        ArgumentNullException.ThrowIfNull(profile);
        var timings = new StageTimings();
        var clock = Stopwatch.StartNew();
        var series = SeriesVolume.Build(instances);
        var slice = SeriesPreprocessor.Preprocess(series);
        timings.Add(Stage.Preprocessing, clock.Elapsed);

        var segmentation = new SliceSegmenter(models).Segment(slice.Image, profile, seed, stepsDone, cancellationToken);
        timings.Add(segmentation.Timings);

        clock.Restart();
        var result = SourceSegmentation.Create(slice, segmentation, profile);
        timings.Add(Stage.Postprocessing, clock.Elapsed);
        return new SeriesSegmentationResult(series, slice, segmentation, result, timings);
    }
}
