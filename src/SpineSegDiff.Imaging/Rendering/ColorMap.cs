namespace SpineSegDiff.Imaging.Rendering;

/// <summary>A 256-entry colour lookup table for values in [0, 1]. Immutable; the shared instances are safe across threads.</summary>
public sealed class ColorMap
{
    public const int Entries = 256;

    private readonly Rgb[] _table;

    private ColorMap(string name, Rgb[] table)
    {
        Name = name;
        _table = table;
    }

    /// <summary>
    /// Viridis: perceptually uniform, ordered in lightness and readable with colour-vision deficiencies and in
    /// greyscale print, so a heat value reads the same everywhere on the map (rainbow maps invent edges).
    /// </summary>
    public static ColorMap Viridis { get; } = FromAnchors("viridis", ViridisAnchors);

    public string Name { get; }

    /// <summary>Colour of <paramref name="value01"/>, clamped to [0, 1]; NaN maps like 0.</summary>
    public Rgb Map(double value01)
    {
        var v = double.IsNaN(value01) ? 0 : Math.Clamp(value01, 0, 1);
        return _table[(int)Math.Round(v * (Entries - 1))];
    }

    /// <summary>Table entry 0..255.</summary>
    public Rgb this[int index] =>
        (uint)index < Entries ? _table[index] : throw new ArgumentOutOfRangeException(nameof(index), index, "0..255.");

    /// <summary>
    /// A map through evenly spaced anchors (R, G, B triples in [0, 1], first at 0, last at 1), interpolated
    /// linearly in RGB to <see cref="Entries"/> entries.
    /// </summary>
    public static ColorMap FromAnchors(string name, ReadOnlySpan<double> rgbTriples)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (rgbTriples.Length < 6 || rgbTriples.Length % 3 != 0)
        {
            throw new ArgumentException("At least two anchors, three components each.", nameof(rgbTriples));
        }
        var segments = rgbTriples.Length / 3 - 1;
        var table = new Rgb[Entries];
        for (var n = 0; n < Entries; n++)
        {
            var t = (double)n / (Entries - 1) * segments;
            var k = Math.Min((int)t, segments - 1);
            var f = t - k;
            table[n] = new Rgb(Channel(rgbTriples, k, 0, f), Channel(rgbTriples, k, 1, f), Channel(rgbTriples, k, 2, f));
        }
        return new ColorMap(name, table);
    }

    private static byte Channel(ReadOnlySpan<double> anchors, int segment, int channel, double fraction)
    {
        var a = anchors[3 * segment + channel];
        var b = anchors[3 * (segment + 1) + channel];
        return (byte)Math.Clamp(Math.Round((a + (b - a) * fraction) * 255), 0, 255);
    }

    // Every 15th entry (0, 15, ..., 255: evenly spaced at k/17) of matplotlib's 256-entry viridis table
    // (_viridis_data in matplotlib/_cm_listed.py, from the mpl-colormaps project by Nathaniel J. Smith and
    // Stefan van der Walt, released CC0). Linear interpolation between them stays within 5/255 of the full table.
    private static ReadOnlySpan<double> ViridisAnchors =>
    [
        0.267004, 0.004874, 0.329415,
        0.281924, 0.089666, 0.412415,
        0.280255, 0.165693, 0.476498,
        0.263663, 0.237631, 0.518762,
        0.237441, 0.305202, 0.541921,
        0.208623, 0.367752, 0.552675,
        0.182256, 0.426184, 0.557120,
        0.159194, 0.482237, 0.558073,
        0.137770, 0.537492, 0.554906,
        0.121148, 0.592739, 0.544641,
        0.128087, 0.647749, 0.523491,
        0.180653, 0.701402, 0.488189,
        0.274149, 0.751988, 0.436601,
        0.395174, 0.797475, 0.367757,
        0.535621, 0.835785, 0.281908,
        0.688944, 0.865448, 0.182725,
        0.845561, 0.887322, 0.099702,
        0.993248, 0.906157, 0.143936,
    ];
}
