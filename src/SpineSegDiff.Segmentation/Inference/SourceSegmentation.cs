using SpineSegDiff.Imaging;
using SpineSegDiff.Imaging.Analysis;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;

namespace SpineSegDiff.Segmentation.Inference;

/// <summary>One connected structure of the result (a vertebra, a disc, the canal) with its uncertainty, for QA.</summary>
public sealed record StructureSummary(
    string Structure,
    int Index,
    double AreaMm2,
    double? MeanUncertainty,
    double? MaxUncertainty,
    Vec3 CentroidPatient);

/// <summary>
/// A model-grid segmentation mapped back onto the source image it came from: labels (bilinear probabilities, then
/// the same threshold and post-processing, the minimum area converted to source pixels), the combined uncertainty
/// (bits), per-class areas and per-structure summaries ordered from superior to inferior.
/// </summary>
public sealed class SourceSegmentation
{
    private static readonly string[] Names = ["spinal canal", "vertebra", "disc"];

    /// <summary>The short name of a foreground class (1..3) in summaries and on the terminal.</summary>
    public static string StructureName(byte label) => Names[label - 1];

    private SourceSegmentation(PreprocessedSlice slice, byte[] labels, float[]? uncertainty, IReadOnlyList<StructureSummary> structures)
    {
        Slice = slice;
        Labels = labels;
        Uncertainty = uncertainty;
        Structures = structures;
    }

    public PreprocessedSlice Slice { get; }

    /// <summary>Rows x Columns of the source image, row-major, 0 background, 1 canal, 2 vertebra, 3 disc.</summary>
    public byte[] Labels { get; }

    /// <summary>Combined uncertainty in bits on the source grid; null without refinement.</summary>
    public float[]? Uncertainty { get; }

    public IReadOnlyList<StructureSummary> Structures { get; }

    public double PixelAreaMm2 => Slice.Source.RowSpacing * Slice.Source.ColumnSpacing;

    public static SourceSegmentation Create(PreprocessedSlice slice, SliceSegmentation segmentation, InferenceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(slice);
        ArgumentNullException.ThrowIfNull(segmentation);
        ArgumentNullException.ThrowIfNull(profile);
        int rows = slice.SourceRows, columns = slice.SourceColumns;
        var labels = slice.ProbabilitiesToSourceLabels(segmentation.Probabilities, LabelClasses.ForegroundCount, profile.Threshold);
        var pixelArea = slice.Source.RowSpacing * slice.Source.ColumnSpacing;
        LabelPostprocessor.Apply(labels, columns, rows, (int)Math.Ceiling(profile.MinimumComponentMm2 / pixelArea));
        var uncertainty = segmentation.CombinedUncertainty is { } grid ? slice.MapToSource(grid) : null;
        return new SourceSegmentation(slice, labels, uncertainty, Summaries(slice, labels, uncertainty));
    }

    /// <summary>Area in mm² per class (canal, vertebra, disc).</summary>
    public double[] ClassAreasMm2()
    {
        var counts = new long[LabelClasses.ForegroundCount];
        foreach (var label in Labels)
        {
            if (label is >= 1 and <= LabelClasses.ForegroundCount)
            {
                counts[label - 1]++;
            }
        }
        return [.. counts.Select(c => c * PixelAreaMm2)];
    }

    private static List<StructureSummary> Summaries(PreprocessedSlice slice, byte[] labels, float[]? uncertainty)
    {
        int rows = slice.SourceRows, columns = slice.SourceColumns;
        var pixelArea = slice.Source.RowSpacing * slice.Source.ColumnSpacing;
        var summaries = new List<StructureSummary>();
        for (byte value = 1; value <= LabelClasses.ForegroundCount; value++)
        {
            var labelling = ConnectedComponents.LabelValue(labels, value, columns, rows);
            var sums = new double[labelling.Count + 1];
            var maxima = new double[labelling.Count + 1];
            if (uncertainty is not null)
            {
                for (var i = 0; i < labelling.Ids.Length; i++)
                {
                    var id = labelling.Ids[i];
                    if (id > 0)
                    {
                        sums[id] += uncertainty[i];
                        maxima[id] = Math.Max(maxima[id], uncertainty[i]);
                    }
                }
            }
            var structures = labelling.Components
                .Select(c => (Component: c, Centre: slice.Source.PixelToPatient(c.CentroidRow, c.CentroidColumn)))
                .OrderByDescending(s => s.Centre.Z)
                .ToList();
            for (var k = 0; k < structures.Count; k++)
            {
                var (component, centre) = structures[k];
                summaries.Add(new StructureSummary(
                    StructureName(value),
                    k + 1,
                    component.PixelCount * pixelArea,
                    uncertainty is null ? null : sums[component.Id] / component.PixelCount,
                    uncertainty is null ? null : maxima[component.Id],
                    centre));
            }
        }
        return summaries;
    }
}
