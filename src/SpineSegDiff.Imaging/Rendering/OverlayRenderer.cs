using SpineSegDiff.Imaging.Preprocessing;

namespace SpineSegDiff.Imaging.Rendering;

/// <summary>
/// Preview images for people: a windowed greyscale slice, the segmentation laid over it, or a heat map (e.g. the
/// diffusion model's uncertainty) with a colour bar. Inputs are row-major maps of one size; <c>scale</c> enlarges
/// the output by an integer factor (nearest neighbour) so a 320x320 model-grid map is readable on screen.
/// </summary>
public static class OverlayRenderer
{
    public const double DefaultLabelAlpha = 0.4;
    public const double DefaultHeatAlpha = 0.5;

    /// <summary>Heat at or below this is left uncoloured, so near-zero noise does not tint the whole image.</summary>
    public const float DefaultHeatFloor = 0.02f;

    /// <summary>
    /// Display floor for uncertainty heatmaps in bits (binary entropy). The SpineSegDiff denoiser's tanh output rarely
    /// saturates: a confident background pixel sits near p = 0.03, about 0.2 bits, and colouring that would tint the
    /// whole image and hide the boundaries and regions a radiologist needs to judge. Every preview of the heatmap
    /// (PNG, Secondary Capture, report figures) uses this one value; the data files keep every value.
    /// </summary>
    public const float UncertaintyDisplayFloor = 0.3f;

    /// <summary>Colour-bar width at scale 1 and 2 (it grows with larger scales, as the legend text does).</summary>
    public const int ColourBarWidth = 16;

    /// <summary>Percentiles mapped to black and white: a few extreme pixels (fat, flow artefacts) do not wash the image out.</summary>
    public const double WindowLow = 0.01;
    public const double WindowHigh = 0.99;

    /// <summary>Overlay colour of a class: canal blue, vertebra green, disc red (background has none).</summary>
    public static Rgb ClassColour(byte label) => label switch
    {
        LabelClasses.SpinalCanal => new Rgb(0, 80, 255),
        LabelClasses.Vertebra => new Rgb(0, 210, 0),
        LabelClasses.Disc => new Rgb(255, 20, 20),
        _ => throw new ArgumentOutOfRangeException(nameof(label), label, "Foreground classes are 1..3."),
    };

    /// <summary>The image windowed from its 1st to its 99th percentile onto 0..255 grey. NaN is refused, as in preprocessing.</summary>
    public static RgbImage Greyscale(ReadOnlySpan<float> image, int width, int height)
    {
        CheckSize(image.Length, width, height, nameof(image));
        var output = new RgbImage(width, height);
        if (image.IsEmpty)
        {
            return output;
        }
        var low = IntensityNormalizer.Percentile(image, WindowLow);
        var high = IntensityNormalizer.Percentile(image, WindowHigh);
        var pixels = output.Pixels;
        for (var p = 0; p < image.Length; p++)
        {
            // A flat image (high == low) has no contrast to stretch: show it black, or white where it rises above.
            var level = high > low
                ? (byte)Math.Clamp(Math.Round((image[p] - (double)low) / (high - (double)low) * 255), 0, 255)
                : (byte)(image[p] > low ? 255 : 0);
            pixels[3 * p] = pixels[3 * p + 1] = pixels[3 * p + 2] = level;
        }
        return output;
    }

    /// <summary>
    /// Each labelled pixel blended with its <see cref="ClassColour"/> at <paramref name="alpha"/>; background
    /// pixels keep the image. Every structure gets a one-pixel opaque contour (on the output grid, after scaling),
    /// so boundaries stay visible where the tint is faint.
    /// </summary>
    public static RgbImage LabelOverlay(RgbImage greyscale, ReadOnlySpan<byte> labels, double alpha = DefaultLabelAlpha, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(greyscale);
        CheckSize(labels.Length, greyscale.Width, greyscale.Height, nameof(labels));
        CheckAlpha(alpha);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var invalid = labels.IndexOfAnyExceptInRange((byte)0, (byte)LabelClasses.ForegroundCount);
        if (invalid >= 0)
        {
            throw new ArgumentException($"Label {labels[invalid]} at pixel {invalid}; labels are 0..3.", nameof(labels));
        }
        Span<Rgb> colours = [Rgb.Black, ClassColour(1), ClassColour(2), ClassColour(3)];
        var output = greyscale.Upscale(scale);
        var width = greyscale.Width;
        for (var y = 0; y < output.Height; y++)
        {
            for (var x = 0; x < output.Width; x++)
            {
                var label = LabelAt(labels, width, scale, x, y);
                if (label == LabelClasses.Background)
                {
                    continue;
                }
                var contour = (x > 0 && LabelAt(labels, width, scale, x - 1, y) != label)
                    || (x < output.Width - 1 && LabelAt(labels, width, scale, x + 1, y) != label)
                    || (y > 0 && LabelAt(labels, width, scale, x, y - 1) != label)
                    || (y < output.Height - 1 && LabelAt(labels, width, scale, x, y + 1) != label);
                output[x, y] = contour ? colours[label] : output[x, y].Blend(colours[label], alpha);
            }
        }
        return output;
    }

    /// <summary>
    /// <paramref name="heat01"/> (values in [0, 1]) blended over the image through <paramref name="colorMap"/>
    /// (viridis by default) wherever it exceeds <paramref name="floor"/>, on a canvas enlarged to the right for a
    /// vertical colour bar (full colour, 0 at the bottom, 1 at the top, labelled) and, when
    /// <paramref name="caption"/> is not empty, at the bottom for the caption (e.g. "uncertainty (bits)").
    /// The colour bar occupies the canvas's right-most columns over the image's rows.
    /// </summary>
    public static RgbImage HeatmapOverlay(
        RgbImage greyscale,
        ReadOnlySpan<float> heat01,
        double alpha = DefaultHeatAlpha,
        string caption = "",
        int scale = 1,
        float floor = DefaultHeatFloor,
        ColorMap? colorMap = null)
    {
        ArgumentNullException.ThrowIfNull(greyscale);
        ArgumentNullException.ThrowIfNull(caption);
        CheckSize(heat01.Length, greyscale.Width, greyscale.Height, nameof(heat01));
        CheckAlpha(alpha);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var map = colorMap ?? ColorMap.Viridis;

        var blended = greyscale.Clone();
        for (var p = 0; p < heat01.Length; p++)
        {
            var heat = heat01[p];
            if (heat > floor)
            {
                int x = p % greyscale.Width, y = p / greyscale.Width;
                blended[x, y] = blended[x, y].Blend(map.Map(heat), alpha);
            }
        }
        var image = blended.Upscale(scale);

        // Legend text below 2x is hard to read on a 320-pixel image; it grows with the scale beyond that.
        var text = Math.Max(2, scale);
        var bar = ColourBarWidth * text / 2;
        var pad = 2 * text;
        var tickWidth = BitmapFont.MeasureWidth("0", text);
        var textHeight = BitmapFont.MeasureHeight(text);
        var captionHeight = caption.Length == 0 ? 0 : textHeight + 2 * pad;
        var canvasWidth = Math.Max(image.Width + pad + tickWidth + pad + bar, caption.Length == 0 ? 0 : BitmapFont.MeasureWidth(caption, text) + 2 * pad);
        var canvas = new RgbImage(canvasWidth, image.Height + captionHeight);
        canvas.Draw(image, 0, 0);

        var barX = canvasWidth - bar;
        for (var y = 0; y < image.Height; y++)
        {
            var value = image.Height == 1 ? 1.0 : 1.0 - (double)y / (image.Height - 1);
            canvas.FillRectangle(barX, y, bar, 1, map.Map(value));
        }
        var tickX = barX - pad - tickWidth;
        BitmapFont.Draw(canvas, "1", tickX, 0, Rgb.White, text);
        BitmapFont.Draw(canvas, "0", tickX, image.Height - textHeight, Rgb.White, text);
        if (caption.Length > 0)
        {
            BitmapFont.Draw(canvas, caption, pad, image.Height + pad, Rgb.White, text);
        }
        return canvas;
    }

    private static byte LabelAt(ReadOnlySpan<byte> labels, int width, int scale, int x, int y) =>
        labels[y / scale * width + x / scale];

    private static void CheckAlpha(double alpha)
    {
        if (!(alpha >= 0 && alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Opacity is 0..1.");
        }
    }

    private static void CheckSize(int length, int width, int height, string parameter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        if ((long)width * height != length)
        {
            throw new ArgumentException($"{length} values for {width}x{height}.", parameter);
        }
    }
}
