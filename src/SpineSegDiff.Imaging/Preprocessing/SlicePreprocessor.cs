namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>
/// The intensity and grid steps of the paper's preprocessing, shared by inference and by the synthetic training
/// generator so both see identical inputs: 98th-percentile normalisation of the source slice (clipped to [0, 1]),
/// then bilinear resampling to 1 mm centred in 320x320 (zero padding, or cropping when larger).
/// </summary>
public static class SlicePreprocessor
{
    public const int Size = CanonicalGridTransform.Size;

    /// <summary>Allocation-free form: <paramref name="scratch"/> must hold rows*columns floats.</summary>
    public static (CanonicalGridTransform Transform, float Reference) Preprocess(
        ReadOnlySpan<float> pixels, int rows, int columns, double rowSpacing, double columnSpacing, Span<float> output, Span<float> scratch)
    {
        var transform = new CanonicalGridTransform(rows, columns, rowSpacing, columnSpacing);
        var n = rows * columns;
        if (pixels.Length != n || scratch.Length < n)
        {
            throw new ArgumentException($"Pixel buffer of {pixels.Length} (scratch {scratch.Length}) for {rows}x{columns}.");
        }
        var reference = IntensityNormalizer.Normalize(pixels, scratch);
        SliceResampler.ToGrid(transform, scratch[..n], output);
        return (transform, reference);
    }

    public static (float[] Image, CanonicalGridTransform Transform, float Reference) Preprocess(CanonicalSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        var output = new float[Size * Size];
        var scratch = new float[slice.Pixels.Length];
        var (transform, reference) = Preprocess(slice.Pixels, slice.Rows, slice.Columns, slice.RowSpacing, slice.ColumnSpacing, output, scratch);
        return (output, transform, reference);
    }
}
