using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>
/// The model input made from a series, with the record of how it was made, so that any 320x320 result maps back
/// exactly onto the source image it came from (and source-grid annotations map forward onto the model grid).
/// Source-grid buffers are row-major in the source image's own pixel order (Rows x Columns of that instance).
/// </summary>
public sealed class PreprocessedSlice
{
    public const int Size = CanonicalGridTransform.Size;

    private readonly SlicePixelMap _map;
    private readonly int _sourcePlaneOffset;

    internal PreprocessedSlice(
        float[] image,
        CanonicalGridTransform transform,
        float reference,
        SourceImageReference source,
        int sliceIndex,
        int sliceCount,
        SlicePixelMap map,
        int sourcePlaneOffset,
        string? seriesInstanceUid,
        string? frameOfReferenceUid)
    {
        Image = image;
        Transform = transform;
        NormalisationReference = reference;
        Source = source;
        SliceIndex = sliceIndex;
        SliceCount = sliceCount;
        _map = map;
        _sourcePlaneOffset = sourcePlaneOffset;
        SeriesInstanceUid = seriesInstanceUid;
        FrameOfReferenceUid = frameOfReferenceUid;
    }

    /// <summary>Normalised image, 320x320 row-major, 1 mm pixels, rows toward inferior, columns toward posterior.</summary>
    public float[] Image { get; }

    /// <summary>Canonical slice to model grid mapping (resampling to 1 mm and centring).</summary>
    public CanonicalGridTransform Transform { get; }

    /// <summary>The 98th-percentile intensity (modality units) that became 1.0.</summary>
    public float NormalisationReference { get; }

    /// <summary>The source image (SOP instance) the slice was taken from.</summary>
    public SourceImageReference Source { get; }

    /// <summary>Index of the source image along the slice normal (0-based) and the number of slices.</summary>
    public int SliceIndex { get; }

    public int SliceCount { get; }

    public string? SeriesInstanceUid { get; }

    public string? FrameOfReferenceUid { get; }

    public int SourceRows => Source.Rows;

    public int SourceColumns => Source.Columns;

    /// <summary>A 320x320 label map (0..3) back on the source image's pixel grid, nearest neighbour.</summary>
    public byte[] LabelsToSource(ReadOnlySpan<byte> grid)
    {
        var canonical = new byte[Transform.SourceRows * Transform.SourceColumns];
        SliceResampler.LabelsFromGrid(Transform, grid, canonical);
        return ToSourceLayout(canonical);
    }

    /// <summary>A 320x320 float map (probability, uncertainty) back on the source pixel grid, bilinear; 0 outside the model grid.</summary>
    public float[] MapToSource(ReadOnlySpan<float> grid)
    {
        var canonical = new float[Transform.SourceRows * Transform.SourceColumns];
        SliceResampler.FromGrid(Transform, grid, canonical);
        return ToSourceLayout(canonical);
    }

    /// <summary>
    /// Per-class probabilities on the model grid (channel-major, channel c = class c + 1) to source-grid labels:
    /// bilinear per channel, then the most probable class at or above <paramref name="threshold"/>.
    /// </summary>
    public byte[] ProbabilitiesToSourceLabels(ReadOnlySpan<float> probabilities, int classCount = LabelClasses.ForegroundCount, float threshold = 0.5f)
    {
        var canonical = new byte[Transform.SourceRows * Transform.SourceColumns];
        SliceResampler.ProbabilitiesToSourceLabels(Transform, probabilities, classCount, canonical, threshold);
        return ToSourceLayout(canonical);
    }

    /// <summary>Source-grid labels (e.g. a radiologist's corrected mask) onto the model grid, nearest neighbour.</summary>
    public byte[] LabelsToGrid(ReadOnlySpan<byte> source)
    {
        var grid = new byte[Size * Size];
        SliceResampler.LabelsToGrid(Transform, FromSourceLayout(source), grid);
        return grid;
    }

    /// <summary>Source-grid labels as per-class area fractions on the model grid (soft training targets).</summary>
    public float[] ClassFractionsToGrid(ReadOnlySpan<byte> source, int classCount = LabelClasses.ForegroundCount)
    {
        var grid = new float[classCount * Size * Size];
        SliceResampler.ClassFractionsToGrid(Transform, FromSourceLayout(source), classCount, grid);
        return grid;
    }

    private T[] ToSourceLayout<T>(T[] canonical) where T : unmanaged
    {
        var plane = Source.Rows * Source.Columns;
        var output = new T[plane];
        for (var r = 0; r < _map.CanonicalRows; r++)
        {
            var p = _map.Start + r * _map.RowStep - _sourcePlaneOffset;
            for (var c = 0; c < _map.CanonicalColumns; c++, p += _map.ColumnStep)
            {
                output[p] = canonical[r * _map.CanonicalColumns + c];
            }
        }
        return output;
    }

    private T[] FromSourceLayout<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        if (source.Length != Source.Rows * Source.Columns)
        {
            throw new ArgumentException($"Source buffer has {source.Length} elements, the image is {Source.Rows}x{Source.Columns}.", nameof(source));
        }
        var output = new T[_map.CanonicalRows * _map.CanonicalColumns];
        for (var r = 0; r < _map.CanonicalRows; r++)
        {
            var p = _map.Start + r * _map.RowStep - _sourcePlaneOffset;
            for (var c = 0; c < _map.CanonicalColumns; c++, p += _map.ColumnStep)
            {
                output[r * _map.CanonicalColumns + c] = source[(int)p];
            }
        }
        return output;
    }
}
