namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>
/// The geometric part of preprocessing: resampling a canonical slice to 1 mm and centring it in the 320x320 model
/// grid (padding or cropping evenly). Done in one step, as an exact affine map between pixel centres, so the forward
/// and inverse mappings are each other's inverse to rounding error: the centre of the source slice lands on the
/// centre of the model grid (159.5, 159.5), and one model pixel is one millimetre.
/// </summary>
public sealed record CanonicalGridTransform(int SourceRows, int SourceColumns, double RowSpacing, double ColumnSpacing)
{
    /// <summary>Model grid size (pixels per side).</summary>
    public const int Size = 320;

    /// <summary>Model grid pixel spacing, mm.</summary>
    public const double GridSpacing = 1.0;

    private const double GridCentre = (Size - 1) / 2.0;

    public static CanonicalGridTransform For(CanonicalSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        return new CanonicalGridTransform(slice.Rows, slice.Columns, slice.RowSpacing, slice.ColumnSpacing);
    }

    /// <summary>Continuous source row of a model-grid row.</summary>
    public double SourceRow(double gridRow) => (gridRow - GridCentre) * GridSpacing / RowSpacing + (SourceRows - 1) / 2.0;

    public double SourceColumn(double gridColumn) => (gridColumn - GridCentre) * GridSpacing / ColumnSpacing + (SourceColumns - 1) / 2.0;

    /// <summary>Continuous model-grid row of a source row.</summary>
    public double GridRow(double sourceRow) => (sourceRow - (SourceRows - 1) / 2.0) * RowSpacing / GridSpacing + GridCentre;

    public double GridColumn(double sourceColumn) => (sourceColumn - (SourceColumns - 1) / 2.0) * ColumnSpacing / GridSpacing + GridCentre;

    /// <summary>Whether a continuous source position lies on the source image (within its pixels' extent).</summary>
    public bool InsideSource(double sourceRow, double sourceColumn) =>
        sourceRow >= -0.5 && sourceRow <= SourceRows - 0.5 && sourceColumn >= -0.5 && sourceColumn <= SourceColumns - 0.5;
}
