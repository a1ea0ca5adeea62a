namespace SpineSegDiff.Imaging.Rendering;

/// <summary>
/// An 8-bit RGB image, row-major and interleaved (R, G, B per pixel), as <see cref="PngWriter"/> takes it.
/// Coordinates are (x, y) = (column, row) with the origin at the top left.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height)
        : this(width, height, new byte[checked(Math.Max(0, width) * Math.Max(0, height) * 3)])
    {
    }

    /// <summary>Wraps <paramref name="pixels"/> (not copied): <paramref name="width"/> x <paramref name="height"/> x 3 bytes.</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != 3L * width * height)
        {
            throw new ArgumentException($"{pixels.Length} bytes for {width}x{height} RGB.", nameof(pixels));
        }
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>R, G, B of pixel (x, y) at <c>3 * (y * Width + x)</c>.</summary>
    public byte[] Pixels { get; }

    public Rgb this[int x, int y]
    {
        get
        {
            var i = Offset(x, y);
            return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
        set
        {
            var i = Offset(x, y);
            Pixels[i] = value.R;
            Pixels[i + 1] = value.G;
            Pixels[i + 2] = value.B;
        }
    }

    public bool Contains(int x, int y) => (uint)x < (uint)Width && (uint)y < (uint)Height;

    public void Fill(Rgb colour) => FillRectangle(0, 0, Width, Height, colour);

    /// <summary>Fills the part of the rectangle that lies inside the image; the rest is ignored.</summary>
    public void FillRectangle(int x, int y, int width, int height, Rgb colour)
    {
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y);
        var x1 = (int)Math.Min(Width, (long)x + width);
        var y1 = (int)Math.Min(Height, (long)y + height);
        for (var row = y0; row < y1; row++)
        {
            for (var column = x0; column < x1; column++)
            {
                this[column, row] = colour;
            }
        }
    }

    /// <summary>Copies <paramref name="source"/> with its top left at (x, y), clipped to this image.</summary>
    public void Draw(RgbImage source, int x, int y)
    {
        ArgumentNullException.ThrowIfNull(source);
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y);
        var x1 = (int)Math.Min(Width, (long)x + source.Width);
        var y1 = (int)Math.Min(Height, (long)y + source.Height);
        if (x1 <= x0)
        {
            return;
        }
        for (var row = y0; row < y1; row++)
        {
            source.Pixels.AsSpan(3 * ((row - y) * source.Width + x0 - x), 3 * (x1 - x0))
                .CopyTo(Pixels.AsSpan(3 * (row * Width + x0)));
        }
    }

    /// <summary>Enlarged by an integer factor with nearest-neighbour sampling, so pixels stay sharp squares.</summary>
    public RgbImage Upscale(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        var output = new RgbImage(checked(Width * factor), checked(Height * factor));
        for (var y = 0; y < output.Height; y++)
        {
            for (var x = 0; x < output.Width; x++)
            {
                output[x, y] = this[x / factor, y / factor];
            }
        }
        return output;
    }

    public RgbImage Clone() => new(Width, Height, (byte[])Pixels.Clone());

    public void WritePng(Stream output) => PngWriter.Write(output, Pixels, Width, Height, channels: 3);

    public void SavePng(string path) => PngWriter.Write(path, Pixels, Width, Height, channels: 3);

    private int Offset(int x, int y)
    {
        if (!Contains(x, y))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside {Width}x{Height}.");
        }
        return 3 * (y * Width + x);
    }
}
