using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>
/// Exact (integer) correspondence between a canonical slice's pixels and the source volume's voxels: canonical
/// (row r, column c) of RAS+ sagittal slice i is RAS voxel (i, A-1-c, S-1-r), which the reorientation maps to one
/// source voxel. Lossless in both directions: no interpolation is involved.
/// </summary>
public sealed record SlicePixelMap(
    int CanonicalRows,
    int CanonicalColumns,
    long Start,
    long RowStep,
    long ColumnStep)
{
    /// <summary>Source voxel array offset of canonical pixel (r, c).</summary>
    public long SourceOffset(int r, int c) => Start + r * RowStep + c * ColumnStep;
}

/// <summary>Extracts canonical sagittal slices (rows toward inferior, columns toward posterior) from any volume.</summary>
public static class SagittalSlicer
{
    public static SlicePixelMap Map(VolumeGeometry source, AxisPermutation toRas, int rasIndex)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(toRas);
        var ras = toRas.Apply(source);
        if ((uint)rasIndex >= (uint)ras.Size0)
        {
            throw new ArgumentOutOfRangeException(nameof(rasIndex), rasIndex, $"The volume has {ras.Size0} sagittal slices.");
        }
        var (start, step0, step1, step2) = toRas.SourceOffsets(source);
        int rows = ras.Size2, cols = ras.Size1;
        // (r, c) -> RAS (i, cols-1-c, rows-1-r)
        var origin = start + rasIndex * step0 + (cols - 1) * step1 + (rows - 1) * step2;
        return new SlicePixelMap(rows, cols, origin, -step2, -step1);
    }

    public static T[] Extract<T>(T[] source, SlicePixelMap map) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(map);
        var output = new T[map.CanonicalRows * map.CanonicalColumns];
        for (var r = 0; r < map.CanonicalRows; r++)
        {
            var p = map.Start + r * map.RowStep;
            var row = output.AsSpan(r * map.CanonicalColumns, map.CanonicalColumns);
            for (var c = 0; c < row.Length; c++, p += map.ColumnStep)
            {
                row[c] = source[p];
            }
        }
        return output;
    }

    /// <summary>Writes a canonical slice back into its place in a source-layout volume array.</summary>
    public static void Insert<T>(ReadOnlySpan<T> canonical, SlicePixelMap map, Span<T> destination) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(map);
        for (var r = 0; r < map.CanonicalRows; r++)
        {
            var p = map.Start + r * map.RowStep;
            for (var c = 0; c < map.CanonicalColumns; c++, p += map.ColumnStep)
            {
                destination[(int)p] = canonical[r * map.CanonicalColumns + c];
            }
        }
    }
}
