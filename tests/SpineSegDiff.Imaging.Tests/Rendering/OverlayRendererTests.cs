using SpineSegDiff.Imaging.Rendering;

namespace SpineSegDiff.Imaging.Tests.Rendering;

public sealed class OverlayRendererTests
{
    [Fact]
    public void Greyscale_windows_the_first_to_the_ninety_ninth_percentile_onto_black_to_white()
    {
        // 0..100: the 1st percentile is 1 and the 99th is 99 (linear interpolation); 0 and 100 clip.
        var values = Enumerable.Range(0, 101).Select(v => (float)v).ToArray();
        var image = OverlayRenderer.Greyscale(values, 101, 1);
        image[0, 0].Should().Be(Rgb.Grey(0));
        image[1, 0].Should().Be(Rgb.Grey(0));
        image[99, 0].Should().Be(Rgb.Grey(255));
        image[100, 0].Should().Be(Rgb.Grey(255));
        ((int)image[50, 0].R).Should().BeInRange(127, 128);
        for (var x = 1; x < 101; x++)
        {
            image[x, 0].R.Should().BeGreaterThanOrEqualTo(image[x - 1, 0].R);
        }
    }

    [Fact]
    public void A_flat_image_is_black_without_dividing_by_zero() =>
        OverlayRenderer.Greyscale(new float[16], 4, 4).Pixels.Should().OnlyContain(b => b == 0);

    [Fact]
    public void Labelled_pixels_take_their_class_hue_and_background_stays_grey()
    {
        const int Size = 20;
        var grey = Uniform(Size, Size, 100);
        var labels = new byte[Size * Size];
        Block(labels, Size, 2, 2, 6, LabelClasses.Disc);
        Block(labels, Size, 2, 11, 6, LabelClasses.Vertebra);
        Block(labels, Size, 11, 2, 6, LabelClasses.SpinalCanal);
        var overlay = OverlayRenderer.LabelOverlay(grey, labels);

        overlay.Width.Should().Be(Size);
        var disc = overlay[4, 4];
        disc.Should().Be(Rgb.Grey(100).Blend(OverlayRenderer.ClassColour(LabelClasses.Disc), 0.4));
        ((int)disc.R).Should().BeGreaterThan(disc.G + 50).And.BeGreaterThan(disc.B + 50, "discs are red");
        var vertebra = overlay[13, 4];
        ((int)vertebra.G).Should().BeGreaterThan(vertebra.R + 50).And.BeGreaterThan(vertebra.B + 50, "vertebrae are green");
        var canal = overlay[4, 13];
        ((int)canal.B).Should().BeGreaterThan(canal.R + 50).And.BeGreaterThan(canal.G + 50, "the canal is blue");
        for (var p = 0; p < labels.Length; p++)
        {
            if (labels[p] == LabelClasses.Background)
            {
                overlay[p % Size, p / Size].Should().Be(Rgb.Grey(100), "background is not tinted");
            }
        }
    }

    [Fact]
    public void Each_structure_has_a_one_pixel_opaque_contour_on_the_scaled_grid()
    {
        const int Size = 10;
        var grey = Uniform(Size, Size, 60);
        var labels = new byte[Size * Size];
        Block(labels, Size, 3, 3, 4, LabelClasses.Disc); // rows and columns 3..6
        var overlay = OverlayRenderer.LabelOverlay(grey, labels, alpha: 0.4, scale: 3);

        overlay.Width.Should().Be(30);
        overlay.Height.Should().Be(30);
        var red = OverlayRenderer.ClassColour(LabelClasses.Disc);
        var tint = Rgb.Grey(60).Blend(red, 0.4);
        // The block covers output pixels 9..20 in both directions.
        overlay[9, 15].Should().Be(red, "left edge");
        overlay[20, 15].Should().Be(red, "right edge");
        overlay[15, 9].Should().Be(red, "top edge");
        overlay[10, 15].Should().Be(tint, "one pixel inside is tinted, not outlined");
        overlay[15, 19].Should().Be(tint);
        overlay[8, 15].Should().Be(Rgb.Grey(60), "outside stays grey");
    }

    [Fact]
    public void Heat_map_blends_the_colour_map_above_the_floor_and_adds_a_colour_bar()
    {
        const int Width = 40, Height = 30;
        var grey = Uniform(Width, Height, 90);
        var heat = new float[Width * Height];
        for (var x = 0; x < Width; x++)
        {
            heat[10 * Width + x] = 1f;
            heat[20 * Width + x] = 0.01f; // under the floor
        }
        var canvas = OverlayRenderer.HeatmapOverlay(grey, heat, alpha: 0.5, caption: "uncertainty (bits)", scale: 2);

        canvas.Width.Should().BeGreaterThan(2 * Width, "the canvas is enlarged for the legend");
        canvas.Height.Should().BeGreaterThan(2 * Height, "and for the caption");
        canvas[6, 2 * 10].Should().Be(Rgb.Grey(90).Blend(ColorMap.Viridis.Map(1), 0.5));
        canvas[6, 2 * 20].Should().Be(Rgb.Grey(90), "heat under the floor leaves the image alone");
        canvas[6, 2 * 5].Should().Be(Rgb.Grey(90));

        // The right-most columns over the image's rows: the colour map from 0 at the bottom to 1 at the top.
        var right = canvas.Width - 1;
        var bottom = 2 * Height - 1;
        canvas[right, bottom].Should().Be(ColorMap.Viridis.Map(0));
        canvas[right, 0].Should().Be(ColorMap.Viridis.Map(1));
        canvas[right - OverlayRenderer.ColourBarWidth + 1, bottom / 2].Should().Be(canvas[right, bottom / 2], "the bar is 16 pixels wide");
        canvas[right - OverlayRenderer.ColourBarWidth, bottom / 2].Should().NotBe(canvas[right, bottom / 2]);
        static double Luma(Rgb c) => 0.2126 * c.R + 0.7152 * c.G + 0.0722 * c.B;
        for (var y = bottom - 1; y >= 0; y--)
        {
            Luma(canvas[right, y]).Should().BeGreaterThan(Luma(canvas[right, y + 1]) - 0.5, "the bar lightens upward");
        }
        Luma(canvas[right, 0]).Should().BeGreaterThan(Luma(canvas[right, bottom]) + 100);

        // "1" beside the bar's top, "0" beside its bottom, the caption below the image: white text on black.
        CountWhite(canvas, 2 * Width, 0, canvas.Width - OverlayRenderer.ColourBarWidth, BitmapFont.MeasureHeight(2)).Should().BeGreaterThan(0);
        CountWhite(canvas, 2 * Width, bottom + 1 - BitmapFont.MeasureHeight(2), canvas.Width - OverlayRenderer.ColourBarWidth, bottom + 1).Should().BeGreaterThan(0);
        CountWhite(canvas, 0, 2 * Height, canvas.Width, canvas.Height).Should().BeGreaterThan(50, "the caption is drawn");
    }

    [Fact]
    public void A_long_caption_widens_the_canvas_and_the_bar_stays_at_the_right()
    {
        const string Caption = "AI uncertainty - not for diagnosis";
        var canvas = OverlayRenderer.HeatmapOverlay(Uniform(16, 16, 0), new float[256], caption: Caption);
        canvas.Width.Should().Be(BitmapFont.MeasureWidth(Caption, 2) + 8);
        canvas[canvas.Width - 1, 0].Should().Be(ColorMap.Viridis.Map(1));
        canvas[canvas.Width - 1, 15].Should().Be(ColorMap.Viridis.Map(0));
    }

    [Fact]
    public void Previews_are_written_as_png_that_decodes_to_the_same_pixels()
    {
        const int Width = 32, Height = 24;
        var image = new float[Width * Height];
        var labels = new byte[Width * Height];
        for (var p = 0; p < image.Length; p++)
        {
            image[p] = p % Width * 10 + p / Width;
            labels[p] = (byte)(p / Width / 6);
        }
        var grey = OverlayRenderer.Greyscale(image, Width, Height);
        var overlay = OverlayRenderer.LabelOverlay(grey, labels, scale: 2);
        var directory = Path.Combine(Path.GetTempPath(), "spineseg-overlay-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var path = Path.Combine(directory, "overlay.png");
            overlay.SavePng(path);
            var (width, height, channels, pixels) = PngReader.Read(File.ReadAllBytes(path));
            (width, height, channels).Should().Be((2 * Width, 2 * Height, 3));
            pixels.Should().Equal(overlay.Pixels);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Mismatched_sizes_and_bad_values_are_refused()
    {
        var grey = Uniform(4, 4, 10);
        FluentActions.Invoking(() => OverlayRenderer.LabelOverlay(grey, new byte[15])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => OverlayRenderer.LabelOverlay(grey, Enumerable.Repeat((byte)4, 16).ToArray())).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => OverlayRenderer.LabelOverlay(grey, new byte[16], alpha: 1.5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => OverlayRenderer.HeatmapOverlay(grey, new float[16], scale: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => OverlayRenderer.Greyscale(new float[3], 2, 2)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Upscaling_repeats_each_pixel_as_a_square()
    {
        var image = new RgbImage(2, 1);
        image[0, 0] = new Rgb(1, 2, 3);
        image[1, 0] = new Rgb(4, 5, 6);
        var big = image.Upscale(3);
        (big.Width, big.Height).Should().Be((6, 3));
        big[2, 2].Should().Be(new Rgb(1, 2, 3));
        big[3, 0].Should().Be(new Rgb(4, 5, 6));
    }

    private static RgbImage Uniform(int width, int height, byte level)
    {
        var image = new RgbImage(width, height);
        image.Fill(Rgb.Grey(level));
        return image;
    }

    private static void Block(byte[] labels, int width, int top, int left, int size, byte label)
    {
        for (var r = top; r < top + size; r++)
        {
            labels.AsSpan(r * width + left, size).Fill(label);
        }
    }

    private static int CountWhite(RgbImage image, int x0, int y0, int x1, int y1)
    {
        var count = 0;
        for (var y = y0; y < y1; y++)
        {
            for (var x = x0; x < x1; x++)
            {
                count += image[x, y] == Rgb.White ? 1 : 0;
            }
        }
        return count;
    }
}
