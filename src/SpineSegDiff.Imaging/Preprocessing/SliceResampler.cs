namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>
/// Moves pixels between a canonical source slice and the 320x320, 1 mm model grid along a
/// <see cref="CanonicalGridTransform"/>, in both directions. The grids are axis-aligned (only scale and shift
/// differ), so interpolation is separable: per-row and per-column weights are computed once, not per pixel.
/// Points outside the other grid read 0 (background).
/// </summary>
public static class SliceResampler
{
    private const int Size = CanonicalGridTransform.Size;

    /// <summary>Bilinear source -> model grid (images).</summary>
    public static void ToGrid(CanonicalGridTransform t, ReadOnlySpan<float> source, Span<float> grid)
    {
        ArgumentNullException.ThrowIfNull(t);
        Check(source.Length, t.SourceRows * t.SourceColumns, grid.Length, Size * Size);
        Span<int> c0 = stackalloc int[Size];
        Span<int> c1 = stackalloc int[Size];
        Span<float> wc = stackalloc float[Size];
        Span<bool> inside = stackalloc bool[Size];
        Axis(Size, t.SourceColumns, t.SourceColumn, c0, c1, wc, inside);
        Span<int> r0 = stackalloc int[Size];
        Span<int> r1 = stackalloc int[Size];
        Span<float> wr = stackalloc float[Size];
        Span<bool> insideRow = stackalloc bool[Size];
        Axis(Size, t.SourceRows, t.SourceRow, r0, r1, wr, insideRow);
        var columns = t.SourceColumns;
        for (var u = 0; u < Size; u++)
        {
            var row = grid.Slice(u * Size, Size);
            if (!insideRow[u])
            {
                row.Clear();
                continue;
            }
            var a = source.Slice(r0[u] * columns, columns);
            var b = source.Slice(r1[u] * columns, columns);
            var w = wr[u];
            for (var v = 0; v < Size; v++)
            {
                if (!inside[v])
                {
                    row[v] = 0;
                    continue;
                }
                var top = a[c0[v]] + wc[v] * (a[c1[v]] - a[c0[v]]);
                var bottom = b[c0[v]] + wc[v] * (b[c1[v]] - b[c0[v]]);
                row[v] = top + w * (bottom - top);
            }
        }
    }

    /// <summary>Nearest-neighbour source -> model grid (label maps).</summary>
    public static void LabelsToGrid(CanonicalGridTransform t, ReadOnlySpan<byte> source, Span<byte> grid)
    {
        ArgumentNullException.ThrowIfNull(t);
        Check(source.Length, t.SourceRows * t.SourceColumns, grid.Length, Size * Size);
        Span<int> cols = stackalloc int[Size];
        Nearest(Size, t.SourceColumns, t.SourceColumn, cols);
        Span<int> rows = stackalloc int[Size];
        Nearest(Size, t.SourceRows, t.SourceRow, rows);
        for (var u = 0; u < Size; u++)
        {
            var row = grid.Slice(u * Size, Size);
            if (rows[u] < 0)
            {
                row.Clear();
                continue;
            }
            var src = source.Slice(rows[u] * t.SourceColumns, t.SourceColumns);
            for (var v = 0; v < Size; v++)
            {
                row[v] = cols[v] < 0 ? (byte)0 : src[cols[v]];
            }
        }
    }

    /// <summary>
    /// Per-class area fractions of a label map on the model grid (channel c = class c + 1, channel-major),
    /// estimated with supersampling x supersampling nearest-neighbour samples per model pixel. Soft targets keep
    /// sub-millimetre boundary positions that a 1 mm label map cannot.
    /// </summary>
    public static void ClassFractionsToGrid(CanonicalGridTransform t, ReadOnlySpan<byte> source, int classCount, Span<float> grid, int supersampling = 4)
    {
        ArgumentNullException.ThrowIfNull(t);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(supersampling);
        Check(source.Length, t.SourceRows * t.SourceColumns, grid.Length, classCount * Size * Size);
        grid.Clear();
        var k = supersampling;
        var weight = 1f / (k * k);
        var subCols = new int[Size * k];
        for (var v = 0; v < Size; v++)
        {
            for (var s = 0; s < k; s++)
            {
                subCols[v * k + s] = NearestIndex(t.SourceColumn(v - 0.5 + (s + 0.5) / k), t.SourceColumns);
            }
        }
        var plane = Size * Size;
        for (var u = 0; u < Size; u++)
        {
            for (var sr = 0; sr < k; sr++)
            {
                var r = NearestIndex(t.SourceRow(u - 0.5 + (sr + 0.5) / k), t.SourceRows);
                if (r < 0)
                {
                    continue;
                }
                var src = source.Slice(r * t.SourceColumns, t.SourceColumns);
                for (var v = 0; v < Size; v++)
                {
                    for (var s = 0; s < k; s++)
                    {
                        var c = subCols[v * k + s];
                        if (c < 0)
                        {
                            continue;
                        }
                        var label = src[c];
                        if (label > 0 && label <= classCount)
                        {
                            grid[(label - 1) * plane + u * Size + v] += weight;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Bilinear model grid -> source pixel grid (probability or uncertainty maps).</summary>
    public static void FromGrid(CanonicalGridTransform t, ReadOnlySpan<float> grid, Span<float> source)
    {
        ArgumentNullException.ThrowIfNull(t);
        Check(source.Length, t.SourceRows * t.SourceColumns, grid.Length, Size * Size);
        var cols = t.SourceColumns;
        var c0 = new int[cols];
        var c1 = new int[cols];
        var wc = new float[cols];
        var inside = new bool[cols];
        Axis(cols, Size, t.GridColumn, c0, c1, wc, inside);
        for (var r = 0; r < t.SourceRows; r++)
        {
            var row = source.Slice(r * cols, cols);
            var u = t.GridRow(r);
            if (u < -0.5 || u > Size - 0.5)
            {
                row.Clear();
                continue;
            }
            u = Math.Clamp(u, 0, Size - 1);
            var u0 = (int)u;
            var u1 = Math.Min(u0 + 1, Size - 1);
            var w = (float)(u - u0);
            var a = grid.Slice(u0 * Size, Size);
            var b = grid.Slice(u1 * Size, Size);
            for (var c = 0; c < cols; c++)
            {
                if (!inside[c])
                {
                    row[c] = 0;
                    continue;
                }
                var top = a[c0[c]] + wc[c] * (a[c1[c]] - a[c0[c]]);
                var bottom = b[c0[c]] + wc[c] * (b[c1[c]] - b[c0[c]]);
                row[c] = top + w * (bottom - top);
            }
        }
    }

    /// <summary>Nearest-neighbour model grid -> source pixel grid (label maps).</summary>
    public static void LabelsFromGrid(CanonicalGridTransform t, ReadOnlySpan<byte> grid, Span<byte> source)
    {
        ArgumentNullException.ThrowIfNull(t);
        Check(source.Length, t.SourceRows * t.SourceColumns, grid.Length, Size * Size);
        var cols = t.SourceColumns;
        var gridCols = new int[cols];
        for (var c = 0; c < cols; c++)
        {
            gridCols[c] = NearestIndex(t.GridColumn(c), Size);
        }
        for (var r = 0; r < t.SourceRows; r++)
        {
            var row = source.Slice(r * cols, cols);
            var u = NearestIndex(t.GridRow(r), Size);
            if (u < 0)
            {
                row.Clear();
                continue;
            }
            var g = grid.Slice(u * Size, Size);
            for (var c = 0; c < cols; c++)
            {
                row[c] = gridCols[c] < 0 ? (byte)0 : g[gridCols[c]];
            }
        }
    }

    /// <summary>
    /// Per-class probability maps on the model grid (channel-major, channel c = class c + 1) to a label map on the
    /// source grid: each channel is interpolated bilinearly, a pixel takes the most probable class whose probability
    /// reaches the threshold, else background. Interpolating before thresholding keeps boundaries sub-pixel.
    /// </summary>
    public static void ProbabilitiesToSourceLabels(CanonicalGridTransform t, ReadOnlySpan<float> probabilities, int classCount, Span<byte> source, float threshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(t);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        Check(source.Length, t.SourceRows * t.SourceColumns, probabilities.Length, classCount * Size * Size);
        var plane = Size * Size;
        var best = new float[source.Length];
        var channel = new float[source.Length];
        source.Clear();
        for (var c = 0; c < classCount; c++)
        {
            FromGrid(t, probabilities.Slice(c * plane, plane), channel);
            for (var n = 0; n < channel.Length; n++)
            {
                var p = channel[n];
                if (p >= threshold && p > best[n])
                {
                    best[n] = p;
                    source[n] = (byte)(c + 1);
                }
            }
        }
    }

    private static void Axis(int count, int sourceSize, Func<double, double> map, Span<int> i0, Span<int> i1, Span<float> w, Span<bool> inside)
    {
        for (var n = 0; n < count; n++)
        {
            var s = map(n);
            inside[n] = s >= -0.5 && s <= sourceSize - 0.5;
            s = Math.Clamp(s, 0, sourceSize - 1);
            var lo = (int)s;
            i0[n] = lo;
            i1[n] = Math.Min(lo + 1, sourceSize - 1);
            w[n] = (float)(s - lo);
        }
    }

    private static void Nearest(int count, int sourceSize, Func<double, double> map, Span<int> index)
    {
        for (var n = 0; n < count; n++)
        {
            index[n] = NearestIndex(map(n), sourceSize);
        }
    }

    /// <summary>Index of the pixel containing a continuous coordinate, or -1 outside the grid.</summary>
    internal static int NearestIndex(double coordinate, int size)
    {
        if (coordinate < -0.5 || coordinate > size - 0.5)
        {
            return -1;
        }
        return Math.Clamp((int)Math.Floor(coordinate + 0.5), 0, size - 1);
    }

    private static void Check(int sourceLength, int sourceExpected, int gridLength, int gridExpected)
    {
        if (sourceLength != sourceExpected)
        {
            throw new ArgumentException($"Source buffer has {sourceLength} elements, the transform needs {sourceExpected}.");
        }
        if (gridLength != gridExpected)
        {
            throw new ArgumentException($"Grid buffer has {gridLength} elements, expected {gridExpected}.");
        }
    }
}
