namespace SpineSegDiff.Imaging.Tests.Analysis;

/// <summary>Small label maps written as text, one character per pixel, so a test shows the shape it checks.</summary>
internal static class MaskText
{
    /// <summary>'.' = 0, digits = that label, '#' = 1; all rows must have the same length.</summary>
    public static (byte[] Pixels, int Width, int Height) Parse(params string[] rows)
    {
        var width = rows[0].Length;
        var pixels = new byte[width * rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r].Length.Should().Be(width, "every row of a test mask has the same width");
            for (var c = 0; c < width; c++)
            {
                pixels[r * width + c] = rows[r][c] switch
                {
                    '.' => 0,
                    '#' => 1,
                    var d and >= '0' and <= '9' => (byte)(d - '0'),
                    var other => throw new ArgumentException($"Unexpected '{other}'."),
                };
            }
        }
        return (pixels, width, rows.Length);
    }

    public static string[] Format(ReadOnlySpan<byte> pixels, int width, int height)
    {
        var rows = new string[height];
        for (var r = 0; r < height; r++)
        {
            var chars = new char[width];
            for (var c = 0; c < width; c++)
            {
                var v = pixels[r * width + c];
                chars[c] = v == 0 ? '.' : (char)('0' + v);
            }
            rows[r] = new string(chars);
        }
        return rows;
    }
}
