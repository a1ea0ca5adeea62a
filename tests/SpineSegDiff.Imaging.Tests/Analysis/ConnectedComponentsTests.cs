using SpineSegDiff.Imaging.Analysis;

namespace SpineSegDiff.Imaging.Tests.Analysis;

public sealed class ConnectedComponentsTests
{
    [Fact]
    public void Separate_blobs_get_ids_in_scan_order_with_sizes_centroids_and_bounds()
    {
        var (mask, width, height) = MaskText.Parse(
            "##....",
            "##..#.",
            "....#.",
            "....##",
            "#.....");
        var result = ConnectedComponents.Label(mask, width, height, Connectivity.Four);

        result.Count.Should().Be(3);
        result.Ids.Should().Equal(
            1, 1, 0, 0, 0, 0,
            1, 1, 0, 0, 2, 0,
            0, 0, 0, 0, 2, 0,
            0, 0, 0, 0, 2, 2,
            3, 0, 0, 0, 0, 0);
        result[1].Should().Be(new Component(1, 4, 0.5, 0.5, new BoundingBox(0, 0, 1, 1)));
        result[2].PixelCount.Should().Be(4);
        result[2].CentroidRow.Should().BeApproximately(2.25, 1e-12);
        result[2].CentroidColumn.Should().BeApproximately(4.25, 1e-12);
        result[2].Bounds.Should().Be(new BoundingBox(1, 4, 3, 5));
        result[2].Bounds.Width.Should().Be(2);
        result[2].Bounds.Height.Should().Be(3);
        result[3].Should().Be(new Component(3, 1, 4, 0, new BoundingBox(4, 0, 4, 0)));
        result.PixelCounts().Should().Equal(30 - 9, 4, 4, 1);
    }

    [Fact]
    public void Diagonal_neighbours_join_only_with_eight_connectivity()
    {
        var (mask, width, height) = MaskText.Parse(
            "#...",
            ".#..",
            "..#.",
            "...#");
        var four = ConnectedComponents.Label(mask, width, height, Connectivity.Four);
        var eight = ConnectedComponents.Label(mask, width, height, Connectivity.Eight);

        four.Count.Should().Be(4);
        four.Components.Should().OnlyContain(c => c.PixelCount == 1);
        eight.Count.Should().Be(1);
        eight[1].PixelCount.Should().Be(4);
        eight[1].Bounds.Should().Be(new BoundingBox(0, 0, 3, 3));
    }

    [Fact]
    public void A_ring_is_one_component_and_its_hole_is_not_in_it()
    {
        var (mask, width, height) = MaskText.Parse(
            "#####",
            "#...#",
            "#.#.#",
            "#...#",
            "#####");
        var result = ConnectedComponents.Label(mask, width, height, Connectivity.Four);
        result.Count.Should().Be(2);
        result[1].PixelCount.Should().Be(16);
        result[1].CentroidRow.Should().BeApproximately(2, 1e-12);
        result[2].Should().Be(new Component(2, 1, 2, 2, new BoundingBox(2, 2, 2, 2)));
    }

    [Theory]
    [InlineData(Connectivity.Four)]
    [InlineData(Connectivity.Eight)]
    public void A_filled_2048_square_is_one_component_without_overflowing_the_stack(Connectivity connectivity)
    {
        const int Size = 2048;
        var mask = new byte[Size * Size];
        Array.Fill(mask, (byte)1);
        var result = ConnectedComponents.Label(mask, Size, Size, connectivity);
        result.Count.Should().Be(1);
        result[1].PixelCount.Should().Be(Size * Size);
        result[1].CentroidRow.Should().BeApproximately(1023.5, 1e-9);
        result[1].CentroidColumn.Should().BeApproximately(1023.5, 1e-9);
        result[1].Bounds.Should().Be(new BoundingBox(0, 0, Size - 1, Size - 1));
        result.Ids.Should().OnlyContain(id => id == 1);
    }

    [Fact]
    public void A_serpentine_through_a_large_mask_is_one_long_component()
    {
        // A one-pixel path folding back and forth: the deepest a depth-first recursion could be pushed.
        const int Width = 1024, Height = 1023;
        var mask = new bool[Width * Height];
        for (var r = 0; r < Height; r++)
        {
            if (r % 2 == 0)
            {
                mask.AsSpan(r * Width, Width).Fill(true);
            }
            else
            {
                mask[r * Width + ((r / 2) % 2 == 0 ? Width - 1 : 0)] = true;
            }
        }
        var result = ConnectedComponents.Label(mask, Width, Height, Connectivity.Four);
        result.Count.Should().Be(1);
        result[1].PixelCount.Should().Be(mask.Count(m => m));
    }

    [Fact]
    public void Label_value_picks_one_class_of_a_label_map()
    {
        var (labels, width, height) = MaskText.Parse(
            "3322",
            "3.22",
            "...3");
        var discs = ConnectedComponents.LabelValue(labels, 3, width, height);
        discs.Count.Should().Be(2);
        discs.Components.Select(c => c.PixelCount).Should().Equal(3, 1);
        ConnectedComponents.LabelValue(labels, 1, width, height).Count.Should().Be(0);
    }

    [Fact]
    public void An_empty_mask_has_no_components_and_a_wrong_size_is_refused()
    {
        ConnectedComponents.Label(new byte[12], 4, 3).Count.Should().Be(0);
        ConnectedComponents.Label(Array.Empty<byte>(), 0, 0).Count.Should().Be(0);
        FluentActions.Invoking(() => ConnectedComponents.Label(new byte[12], 5, 3)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ConnectedComponents.Label(new byte[4], 2, 2, (Connectivity)6)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ConnectedComponents.Label(new byte[4], 2, 2)[2]).Should().Throw<ArgumentOutOfRangeException>();
    }
}
