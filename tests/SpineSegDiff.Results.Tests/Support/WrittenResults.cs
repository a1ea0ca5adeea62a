using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Results.SecondaryCapture;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results.Tests.Support;

/// <summary>Uncertainty maps for the test series, and the FRACTIONAL SEG and Secondary Captures written from them.</summary>
public static class WrittenResults
{
    /// <summary>
    /// A map on the series grid that exercises the whole 0..1 range: 0.95 on every label boundary (where a real
    /// model is unsure), elsewhere a pattern stepping through values that are not multiples of 1/255, and exact
    /// 0 and 1 on the first and last columns. Slices 0 and the last are kept below the SC display floor.
    /// </summary>
    public static Volume<float> Uncertainty(SourceSeries source)
    {
        var g = source.Labels.Geometry;
        var labels = source.Labels.Voxels;
        var values = new float[labels.Length];
        for (var k = 0; k < g.Size2; k++)
        {
            for (var y = 0; y < g.Size1; y++)
            {
                for (var x = 0; x < g.Size0; x++)
                {
                    var n = (k * g.Size1 + y) * g.Size0 + x;
                    var boundary = (x > 0 && labels[n - 1] != labels[n]) || (y > 0 && labels[n - g.Size0] != labels[n]);
                    values[n] = x == 0 ? 0f
                        : x == g.Size0 - 1 ? 1f
                        : boundary ? 0.95f
                        : (x * 7 + y * 3 + k) % 997 / 997f * 0.6f;
                }
            }
        }
        return new Volume<float>(g, values);
    }

    public static readonly SegmentationAlgorithm Algorithm = WrittenSeg.Algorithm;

    public static (SegmentationResult Result, string Path) WriteUncertaintySeg(SourceSeries source, Volume<float> map, SourceSliceSelection slices, string directory)
    {
        var result = new SegmentationWriter().WriteUncertainty(source.Instances(), map, slices, Algorithm);
        var path = System.IO.Path.Combine(directory, $"{source.Name}-uncertainty-{slices}.dcm".Replace(' ', '-'));
        SegmentationWriter.Save(result.Dataset, path);
        return (result, path);
    }

    public static (SecondaryCaptureImage Image, string Path) WriteScs(SecondaryCaptureImage image, string directory, string kind)
    {
        var path = System.IO.Path.Combine(directory, $"sc-{kind}-{image.SourceSliceIndex}.dcm");
        SecondaryCaptureWriter.Save(image.Dataset, path);
        return (image, path);
    }
}
