namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>
/// A 2D sagittal image in the canonical in-plane orientation every model input uses: the RAS+ sagittal plane shown
/// the way radiologists look at it, row index increasing toward inferior (feet), column index increasing toward
/// posterior (patient's back on the right of the image). Row-major; spacings in millimetres between pixel centres.
/// </summary>
public sealed record CanonicalSlice
{
    public CanonicalSlice(float[] pixels, int rows, int columns, double rowSpacing, double columnSpacing)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (pixels.Length != rows * columns)
        {
            throw new ArgumentException($"{pixels.Length} pixels for a {rows}x{columns} slice.", nameof(pixels));
        }
        if (!(rowSpacing > 0) || !(columnSpacing > 0) || !double.IsFinite(rowSpacing + columnSpacing))
        {
            throw new ArgumentOutOfRangeException(nameof(rowSpacing), "Pixel spacing must be positive and finite.");
        }
        Pixels = pixels;
        Rows = rows;
        Columns = columns;
        RowSpacing = rowSpacing;
        ColumnSpacing = columnSpacing;
    }

    public float[] Pixels { get; }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Distance between adjacent rows (along the superior-inferior axis), mm.</summary>
    public double RowSpacing { get; }

    /// <summary>Distance between adjacent columns (along the anterior-posterior axis), mm.</summary>
    public double ColumnSpacing { get; }
}
