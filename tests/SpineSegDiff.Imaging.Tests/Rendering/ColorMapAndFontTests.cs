using SpineSegDiff.Imaging.Rendering;

namespace SpineSegDiff.Imaging.Tests.Rendering;

public sealed class ColorMapAndFontTests
{
    [Fact]
    public void Viridis_runs_from_dark_purple_through_teal_to_yellow()
    {
        var viridis = ColorMap.Viridis;
        // matplotlib's viridis: #440154 at 0, #21918C at 0.5, #FDE725 at 1.
        viridis.Map(0).Should().Be(new Rgb(68, 1, 84));
        viridis.Map(1).Should().Be(new Rgb(253, 231, 37));
        var middle = viridis.Map(0.5);
        ((int)middle.R).Should().BeInRange(33 - 5, 33 + 5);
        ((int)middle.G).Should().BeInRange(145 - 5, 145 + 5);
        ((int)middle.B).Should().BeInRange(140 - 5, 140 + 5);
    }

    [Fact]
    public void Viridis_gets_lighter_all_the_way_up()
    {
        static double Luma(Rgb c) => 0.2126 * c.R + 0.7152 * c.G + 0.0722 * c.B;
        // Rounding to bytes can cost a neighbouring entry a fraction of a level; a few entries apart it never does.
        for (var n = 1; n < ColorMap.Entries; n++)
        {
            Luma(ColorMap.Viridis[n]).Should().BeGreaterThan(Luma(ColorMap.Viridis[n - 1]) - 0.5, $"entry {n} is not darker than {n - 1}");
        }
        for (var n = 4; n < ColorMap.Entries; n += 4)
        {
            Luma(ColorMap.Viridis[n]).Should().BeGreaterThan(Luma(ColorMap.Viridis[n - 4]), $"entry {n} is lighter than {n - 4}");
        }
    }

    [Fact]
    public void Values_outside_zero_to_one_are_clamped()
    {
        var viridis = ColorMap.Viridis;
        viridis.Map(-3).Should().Be(viridis.Map(0));
        viridis.Map(double.NaN).Should().Be(viridis.Map(0));
        viridis.Map(7).Should().Be(viridis.Map(1));
        FluentActions.Invoking(() => viridis[256]).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Zero_and_one_render_differently()
    {
        Render("0").Should().NotEqual(Render("1"));
        Render("0").Should().Contain(255, "the glyph sets pixels");
    }

    [Fact]
    public void Every_printable_character_has_its_own_visible_glyph()
    {
        var patterns = new HashSet<string>(StringComparer.Ordinal);
        for (var c = BitmapFont.First; c <= BitmapFont.Last; c++)
        {
            var pattern = Pattern(c);
            if (c != ' ')
            {
                pattern.Should().Contain("#", $"'{c}' draws something");
            }
            patterns.Add(pattern).Should().BeTrue($"'{c}' does not look like another character");
        }
        patterns.Should().HaveCount(95);
        Pattern('\u00e9').Should().Be(Pattern('?'), "characters outside ASCII show as '?'");
    }

    [Fact]
    public void Letters_digits_and_punctuation_have_their_expected_shapes()
    {
        Pattern('1').Should().Be("..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.");
        Pattern('A').Should().Be(".###. #...# #...# #...# ##### #...# #...#");
        Pattern('-').Should().Be("..... ..... ..... ##### ..... ..... .....");
        Pattern('.').Should().Be("..... ..... ..... ..... ..... .##.. .##..");
        Pattern('%').Should().Be("##... ##..# ...#. ..#.. .#... #..## ...##");
    }

    [Theory]
    [InlineData("", 1, 0)]
    [InlineData("0", 1, 5)]
    [InlineData("AI uncertainty - not for diagnosis", 1, 34 * 6 - 1)]
    [InlineData("0.25", 3, (4 * 6 - 1) * 3)]
    public void Width_is_six_pixels_per_character_without_trailing_space(string text, int scale, int width) =>
        BitmapFont.MeasureWidth(text, scale).Should().Be(width);

    [Fact]
    public void Text_stays_inside_its_measured_box()
    {
        const string Text = "uncertainty (bits): 50%";
        var image = new RgbImage(200, 30);
        BitmapFont.Draw(image, Text, 7, 9, Rgb.White, scale: 1);
        int minX = int.MaxValue, maxX = -1, minY = int.MaxValue, maxY = -1;
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                if (image[x, y] == Rgb.White)
                {
                    (minX, maxX, minY, maxY) = (Math.Min(minX, x), Math.Max(maxX, x), Math.Min(minY, y), Math.Max(maxY, y));
                }
            }
        }
        minX.Should().Be(7, "'u' starts in its first column");
        maxX.Should().BeLessThan(7 + BitmapFont.MeasureWidth(Text));
        minY.Should().BeGreaterThanOrEqualTo(9);
        maxY.Should().BeLessThan(9 + BitmapFont.MeasureHeight());
        maxX.Should().Be(7 + BitmapFont.MeasureWidth(Text) - 1, "'%' reaches its last column");
    }

    [Fact]
    public void Text_running_off_any_edge_is_clipped_without_error()
    {
        var image = new RgbImage(20, 10);
        foreach (var (x, y) in new[] { (-7, 2), (15, 2), (3, -5), (3, 8), (-1000, -1000), (int.MaxValue - 5, 0), (0, int.MaxValue - 5) })
        {
            FluentActions.Invoking(() => BitmapFont.Draw(image, "W:%/()", x, y, Rgb.White, scale: 2, background: Rgb.Black)).Should().NotThrow();
        }
        image.Pixels.Should().Contain(255, "the parts inside the image were drawn");
    }

    [Fact]
    public void A_background_box_frames_the_text()
    {
        var image = new RgbImage(40, 30);
        image.Fill(Rgb.Grey(128));
        BitmapFont.Draw(image, "ab", 10, 5, Rgb.White, scale: 2, background: Rgb.Black);
        image[8, 3].Should().Be(Rgb.Black, "the box starts one glyph pixel before the text");
        image[7, 3].Should().Be(Rgb.Grey(128));
        image[10 + BitmapFont.MeasureWidth("ab", 2) + 1, 5 + BitmapFont.MeasureHeight(2) + 1].Should().Be(Rgb.Black, "and ends one after it");
        image[10 + BitmapFont.MeasureWidth("ab", 2) + 2, 5 + BitmapFont.MeasureHeight(2) + 2].Should().Be(Rgb.Grey(128));
    }

    private static byte[] Render(string text)
    {
        var image = new RgbImage(BitmapFont.MeasureWidth(text), BitmapFont.MeasureHeight());
        BitmapFont.Draw(image, text, 0, 0, Rgb.White);
        return image.Pixels;
    }

    /// <summary>The glyph as rows of '#' and '.', separated by spaces.</summary>
    private static string Pattern(char c) =>
        string.Join(' ', Enumerable.Range(0, BitmapFont.GlyphHeight).Select(row =>
            new string([.. Enumerable.Range(0, BitmapFont.GlyphWidth).Select(column => BitmapFont.IsSet(c, column, row) ? '#' : '.')])));
}
