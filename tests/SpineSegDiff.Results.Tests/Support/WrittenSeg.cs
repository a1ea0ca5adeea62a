using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results.Tests.Support;

/// <summary>The SEG variants the tests write: which series, which slices, which label (if any) left empty.</summary>
public sealed record SegVariant(string Series, string Slices, byte EmptyLabel = 0)
{
    public override string ToString() => $"{Series}-{Slices}{(EmptyLabel == 0 ? string.Empty : $"-no-label-{EmptyLabel}")}";

    public SourceSliceSelection Selection => Slices == "all" ? SourceSliceSelection.All : SourceSliceSelection.Central;

    /// <summary>Every variant the issue asks for: odd and multiple-of-8 sizes, one and all slices, an empty segment.</summary>
    public static TheoryData<string> Names => new()
    {
        "odd-central", "odd-all", "odd-all-no-label-3", "phantom-central", "phantom-all", "phantom-central-no-label-1",
    };

    public static SegVariant Parse(string name)
    {
        var parts = name.Split('-');
        var empty = parts.Length == 5 ? byte.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture) : (byte)0;
        return new SegVariant(parts[0], parts[1], empty);
    }
}

/// <summary>A SEG written to disk with what it should contain.</summary>
public sealed record WrittenSeg(SourceSeries Source, SegVariant Variant, string Path, SegmentationResult Result, Volume<byte> Labels)
{
    public static readonly SegmentationAlgorithm Algorithm = new("SpineSegDiff", "preseg 1.0.0; diffusion 1.0.0");

    public static WrittenSeg Write(SeriesFixture fixture, string variantName, string directory)
    {
        var variant = SegVariant.Parse(variantName);
        var source = fixture.ByName(variant.Series);
        var labels = variant.EmptyLabel == 0 ? source.Labels : source.LabelsWithout(variant.EmptyLabel);
        var result = new SegmentationWriter().Write(source.Instances(), labels, variant.Selection, Algorithm);
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.Combine(directory, variant + ".dcm");
        SegmentationWriter.Save(result.Dataset, path);
        return new WrittenSeg(source, variant, path, result, labels);
    }

    /// <summary>The label map restricted to the slices the SEG covers (zeros elsewhere), slice by slice.</summary>
    public byte[] ExpectedLabels()
    {
        var plane = Source.Rows * Source.Columns;
        var expected = new byte[Labels.Voxels.Length];
        foreach (var slice in Result.SourceSlices)
        {
            Array.Copy(Labels.Voxels, slice * plane, expected, slice * plane, plane);
        }
        return expected;
    }
}
