using System.Diagnostics;
using SpineSegDiff.Imaging.Analysis;
using SpineSegDiff.Segmentation.Networks;
using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Segmentation.Inference;

/// <summary>
/// One preprocessed slice (320 x 320, 1 mm) segmented: class probabilities and labels on the model grid, and with
/// refinement the per-class uncertainty (bits) and its maximum over classes.
/// </summary>
public sealed record SliceSegmentation(
    float[] PresegmentationProbabilities,
    float[] Probabilities,
    byte[] Labels,
    float[]? Uncertainty,
    float[]? CombinedUncertainty,
    StageTimings Timings);

/// <summary>
/// Presegmentation, then (unless the profile says not to) SpineSegDiff refinement, then the paper's post-processing:
/// threshold, fill holes, drop small components per class. Works on the model grid; mapping back to the source image
/// is the caller's (the preprocessed slice knows how).
/// </summary>
public sealed class SliceSegmenter(SegmentationModels models)
{
    public const int Size = Imaging.Preprocessing.PreprocessedSlice.Size;
    private const int Pixels = Size * Size;

    public SliceSegmentation Segment(
        float[] image, InferenceProfile profile, int seed, IProgress<int>? stepsDone = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var timings = new StageTimings();
        var presegmentation = Presegment(image, timings);
        return profile.Refine
            ? Refine(image, presegmentation, profile, seed, timings, stepsDone, cancellationToken)
            : Finish(presegmentation, presegmentation, null, profile, timings);
    }

    /// <summary>The presegmentation network's class probabilities (3 x 320 x 320).</summary>
    public float[] Presegment(float[] image, StageTimings timings)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(timings);
        if (image.Length != Pixels)
        {
            throw new ArgumentException($"Expected a preprocessed {Size}x{Size} image.", nameof(image));
        }
        var clock = Stopwatch.StartNew();
        var probabilities = models.Presegmentation.PredictProbabilities(image, 1, Size, Size);
        timings.Add(Stage.Presegmentation, clock.Elapsed);
        return probabilities;
    }

    /// <summary>Diffusion refinement of a presegmentation, then decoding (see <see cref="Decode"/>).</summary>
    public SliceSegmentation Refine(
        float[] image,
        float[] presegmentation,
        InferenceProfile profile,
        int seed,
        StageTimings timings,
        IProgress<int>? stepsDone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(timings);
        var network = models.Diffusion ?? throw new InvalidOperationException("Refinement needs the SpineSegDiff model; it was not loaded.");
        var refined = new DiffusionRefiner(network).Refine(image, presegmentation, Size, Size, profile, seed, timings, stepsDone, cancellationToken);
        return Finish(presegmentation, refined.Probabilities, refined.Uncertainty, profile, timings);
    }

    private static SliceSegmentation Finish(
        float[] presegmentation, float[] probabilities, float[]? uncertainty, InferenceProfile profile, StageTimings timings)
    {
        var clock = Stopwatch.StartNew();
        var combined = uncertainty is null ? null : MaxOverClasses(uncertainty);
        timings.Add(Stage.Fusion, clock.Elapsed);
        clock.Restart();
        var labels = Decode(probabilities, profile);
        timings.Add(Stage.Postprocessing, clock.Elapsed);
        return new SliceSegmentation(presegmentation, probabilities, labels, uncertainty, combined, timings);
    }

    /// <summary>Threshold (most probable class at or above it), fill holes, drop components under the minimum area.</summary>
    public static byte[] Decode(ReadOnlySpan<float> probabilities, InferenceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var labels = new byte[Pixels];
        LabelDecoding.ToLabels(probabilities, labels, profile.Threshold);
        // Model pixels are 1 mm x 1 mm, so the minimum area in mm² is a pixel count.
        LabelPostprocessor.Apply(labels, Size, Size, profile.MinimumComponentMm2);
        return labels;
    }

    private static float[] MaxOverClasses(ReadOnlySpan<float> perClass)
    {
        var combined = new float[Pixels];
        for (var c = 0; c < SpineSegDiffNetwork.MaskChannels; c++)
        {
            var plane = perClass.Slice(c * Pixels, Pixels);
            for (var i = 0; i < Pixels; i++)
            {
                combined[i] = Math.Max(combined[i], plane[i]);
            }
        }
        return combined;
    }
}
