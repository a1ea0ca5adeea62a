namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>
/// A smooth random field over a plane in millimetres: random values on a coarse lattice, interpolated with
/// smoothstep weights. Sampled a whole image row at a time, so the per-pixel cost is one lerp along the row.
/// Used for tissue texture, fat/muscle mixing, bias fields and elastic displacements.
/// </summary>
internal sealed class NoiseField
{
    private readonly float[] _lattice;
    private readonly int _rows;
    private readonly int _columns;
    private readonly double _cell;
    private readonly double _originY;
    private readonly double _originX;
    private readonly float[] _rowBuffer;

    /// <param name="centreY">Centre of the covered area (mm).</param>
    /// <param name="halfExtent">Half-size of the covered area (mm); samples beyond it are clamped to the edge.</param>
    public NoiseField(Random random, double cellMm, double centreY, double centreX, double halfExtent)
    {
        _cell = cellMm;
        var n = (int)Math.Ceiling(2 * halfExtent / cellMm) + 4;
        _rows = n;
        _columns = n;
        _originY = centreY - (n - 1) * cellMm / 2;
        _originX = centreX - (n - 1) * cellMm / 2;
        _lattice = new float[n * n];
        for (var i = 0; i < _lattice.Length; i++)
        {
            _lattice[i] = (float)(random.NextDouble() * 2 - 1);
        }
        _rowBuffer = new float[n];
    }

    /// <summary>Fills <paramref name="output"/> with the field at (y, x0 + i*dx). Not thread-safe (row buffer).</summary>
    public void SampleRow(double y, double x0, double dx, Span<float> output)
    {
        var gy = Math.Clamp((y - _originY) / _cell, 0, _rows - 1.000001);
        var iy = (int)gy;
        var wy = Smooth((float)(gy - iy));
        var a = _lattice.AsSpan(iy * _columns, _columns);
        var b = _lattice.AsSpan((iy + 1) * _columns, _columns);
        var row = _rowBuffer;
        for (var c = 0; c < _columns; c++)
        {
            row[c] = a[c] + wy * (b[c] - a[c]);
        }
        var inv = 1.0 / _cell;
        var gx = (x0 - _originX) * inv;
        var step = dx * inv;
        var max = _columns - 1.000001;
        for (var i = 0; i < output.Length; i++, gx += step)
        {
            var g = gx < 0 ? 0 : gx > max ? max : gx;
            var ix = (int)g;
            var w = Smooth((float)(g - ix));
            output[i] = row[ix] + w * (row[ix + 1] - row[ix]);
        }
    }

    /// <summary>The field at one point (for sparse use, e.g. label lookups on the model grid).</summary>
    public float Sample(double y, double x)
    {
        var gy = Math.Clamp((y - _originY) / _cell, 0, _rows - 1.000001);
        var gx = Math.Clamp((x - _originX) / _cell, 0, _columns - 1.000001);
        var iy = (int)gy;
        var ix = (int)gx;
        var wy = Smooth((float)(gy - iy));
        var wx = Smooth((float)(gx - ix));
        var p = iy * _columns + ix;
        var top = _lattice[p] + wx * (_lattice[p + 1] - _lattice[p]);
        var bottom = _lattice[p + _columns] + wx * (_lattice[p + _columns + 1] - _lattice[p + _columns]);
        return top + wy * (bottom - top);
    }

    private static float Smooth(float t) => t * t * (3 - 2 * t);
}
