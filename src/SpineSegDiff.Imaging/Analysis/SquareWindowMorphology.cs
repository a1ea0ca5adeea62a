namespace SpineSegDiff.Imaging.Analysis;

/// <summary>
/// Grey-level dilation and erosion of a 2D map (row-major, width x height) with a (2r + 1)² square window, done
/// separably (rows, then columns). On a 0/1 mask, dilation marks every pixel within Chebyshev distance r of the mask.
/// </summary>
public static class SquareWindowMorphology
{
    public static void Dilate(Span<float> map, int width, int height, int radius) => Apply(map, width, height, radius, dilate: true);

    public static void Erode(Span<float> map, int width, int height, int radius) => Apply(map, width, height, radius, dilate: false);

    private static void Apply(Span<float> map, int width, int height, int radius, bool dilate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (map.Length != width * height)
        {
            throw new ArgumentException($"Expected {width} x {height} values.", nameof(map));
        }
        var scratch = new float[map.Length];
        for (var y = 0; y < height; y++)
        {
            var row = map.Slice(y * width, width);
            for (var x = 0; x < width; x++)
            {
                var value = row[x];
                for (var d = Math.Max(0, x - radius); d <= Math.Min(width - 1, x + radius); d++)
                {
                    value = dilate ? Math.Max(value, row[d]) : Math.Min(value, row[d]);
                }
                scratch[(y * width) + x] = value;
            }
        }
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var value = scratch[(y * width) + x];
                for (var d = Math.Max(0, y - radius); d <= Math.Min(height - 1, y + radius); d++)
                {
                    value = dilate ? Math.Max(value, scratch[(d * width) + x]) : Math.Min(value, scratch[(d * width) + x]);
                }
                map[(y * width) + x] = value;
            }
        }
    }
}
