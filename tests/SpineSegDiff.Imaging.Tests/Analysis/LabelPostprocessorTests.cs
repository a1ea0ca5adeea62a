using SpineSegDiff.Imaging.Analysis;

namespace SpineSegDiff.Imaging.Tests.Analysis;

public sealed class LabelPostprocessorTests
{
    [Fact]
    public void An_enclosed_background_hole_becomes_the_enclosing_class()
    {
        var (labels, width, height) = MaskText.Parse(
            "........",
            ".22222..",
            ".2...2..",
            ".2...2..",
            ".22222..",
            "........");
        LabelPostprocessor.FillHoles(labels, width, height, LabelClasses.Vertebra).Should().Be(6);
        MaskText.Format(labels, width, height).Should().Equal(
            "........",
            ".22222..",
            ".22222..",
            ".22222..",
            ".22222..",
            "........");
    }

    [Fact]
    public void A_hole_holding_another_class_is_not_filled()
    {
        string[] rows =
        [
            "........",
            ".22222..",
            ".2...2..",
            ".2.3.2..",
            ".22222..",
            "........",
        ];
        var (labels, width, height) = MaskText.Parse(rows);
        LabelPostprocessor.FillHoles(labels, width, height, LabelClasses.Vertebra).Should().Be(0);
        MaskText.Format(labels, width, height).Should().Equal(rows);
    }

    [Fact]
    public void A_region_open_to_the_image_border_is_not_a_hole()
    {
        string[] rows =
        [
            "11111",
            "1...1",
            "1...1",
            "1...1",
        ];
        var (labels, width, height) = MaskText.Parse(rows);
        LabelPostprocessor.FillHoles(labels, width, height, LabelClasses.SpinalCanal).Should().Be(0);
        MaskText.Format(labels, width, height).Should().Equal(rows);
    }

    [Fact]
    public void A_hole_behind_a_diagonal_gap_is_still_a_hole()
    {
        // The ring is closed for an 8-connected structure; the background only touches the outside at a corner.
        var (labels, width, height) = MaskText.Parse(
            ".......",
            "..333..",
            ".3...3.",
            ".3...3.",
            ".3...3.",
            "..333..",
            ".......");
        LabelPostprocessor.FillHoles(labels, width, height, LabelClasses.Disc).Should().Be(9);
        labels[3 * width + 3].Should().Be(LabelClasses.Disc);
        labels[1 * width + 1].Should().Be(LabelClasses.Background, "the corners outside the ring stay background");
    }

    [Fact]
    public void A_component_one_pixel_below_the_minimum_is_dropped_and_one_of_exactly_the_minimum_kept()
    {
        const int Width = 40, Height = 20;
        var labels = new byte[Width * Height];
        Rectangle(labels, Width, top: 2, left: 2, rows: 8, columns: 8, LabelClasses.Disc); // 64 pixels
        Rectangle(labels, Width, top: 2, left: 20, rows: 9, columns: 7, LabelClasses.Disc); // 63 pixels
        var summary = LabelPostprocessor.Apply(labels, Width, Height);

        summary.Should().Be(new PostprocessingSummary(0, 1, 63));
        labels.Count(l => l == LabelClasses.Disc).Should().Be(64);
        labels[2 * Width + 2].Should().Be(LabelClasses.Disc);
        labels[2 * Width + 20].Should().Be(LabelClasses.Background);
    }

    [Fact]
    public void Diagonal_pixels_count_as_one_component_when_judging_size()
    {
        const int Width = 80, Height = 80;
        var labels = new byte[Width * Height];
        for (var n = 0; n < 64; n++)
        {
            labels[(n + 8) * Width + n + 8] = LabelClasses.SpinalCanal; // a 64-pixel diagonal line
        }
        LabelPostprocessor.Apply(labels, Width, Height).DroppedPixels.Should().Be(0);
        labels.Count(l => l == LabelClasses.SpinalCanal).Should().Be(64);
    }

    [Fact]
    public void Holes_are_filled_before_sizes_are_judged()
    {
        // An 8x8 ring is 28 pixels; with its 36-pixel hole filled it is exactly the 64-pixel minimum.
        const int Width = 12, Height = 12;
        var labels = new byte[Width * Height];
        Rectangle(labels, Width, top: 2, left: 2, rows: 8, columns: 8, LabelClasses.Vertebra);
        Rectangle(labels, Width, top: 3, left: 3, rows: 6, columns: 6, LabelClasses.Background);

        LabelPostprocessor.Apply(labels, Width, Height).Should().Be(new PostprocessingSummary(36, 0, 0));
        labels.Count(l => l == LabelClasses.Vertebra).Should().Be(64);
    }

    [Fact]
    public void Other_classes_are_untouched_by_each_class_step()
    {
        const int Width = 30, Height = 30;
        var labels = new byte[Width * Height];
        Rectangle(labels, Width, top: 1, left: 1, rows: 12, columns: 12, LabelClasses.Vertebra);
        Rectangle(labels, Width, top: 4, left: 4, rows: 3, columns: 3, LabelClasses.Background); // vertebra hole
        Rectangle(labels, Width, top: 14, left: 1, rows: 2, columns: 2, LabelClasses.SpinalCanal); // small canal blob
        Rectangle(labels, Width, top: 16, left: 16, rows: 2, columns: 3, LabelClasses.Disc); // small disc blob
        Rectangle(labels, Width, top: 20, left: 20, rows: 9, columns: 9, LabelClasses.Disc);
        var before = labels.ToArray();

        LabelPostprocessor.FillHoles(labels, Width, Height, LabelClasses.Vertebra).Should().Be(9);
        LabelPostprocessor.DropSmallComponents(labels, Width, Height, LabelClasses.SpinalCanal).Should().Be((1, 4));
        for (var p = 0; p < labels.Length; p++)
        {
            if (before[p] == LabelClasses.Disc)
            {
                labels[p].Should().Be(LabelClasses.Disc, "neither step on another class touches disc pixels");
            }
        }
        labels.Count(l => l == LabelClasses.Disc).Should().Be(before.Count(l => l == LabelClasses.Disc));
        labels.Count(l => l == LabelClasses.Vertebra).Should().Be(144);
        labels.Count(l => l == LabelClasses.SpinalCanal).Should().Be(0);
    }

    [Fact]
    public void Values_outside_the_label_convention_are_refused()
    {
        var labels = new byte[16];
        labels[5] = SpineSegDiff.Imaging.Synthesis.SpineAnatomy.DiscBase + 1; // a tissue code, not a class
        FluentActions.Invoking(() => LabelPostprocessor.Apply(labels, 4, 4)).Should().Throw<ArgumentException>().WithMessage("*labels are 0..3*");
        FluentActions.Invoking(() => LabelPostprocessor.Apply(new byte[16], 4, 5)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => LabelPostprocessor.FillHoles(new byte[16], 4, 4, 0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    private static void Rectangle(byte[] labels, int width, int top, int left, int rows, int columns, byte label)
    {
        for (var r = top; r < top + rows; r++)
        {
            labels.AsSpan(r * width + left, columns).Fill(label);
        }
    }
}
