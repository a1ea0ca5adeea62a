using SpineSegDiff.Imaging.Analysis;

namespace SpineSegDiff.Imaging.Tests.Analysis;

public sealed class SquareWindowMorphologyTests
{
    [Fact]
    public void Dilating_a_point_marks_exactly_the_pixels_within_chebyshev_distance_r()
    {
        const int w = 9, h = 7, r = 2;
        var map = new float[w * h];
        map[(3 * w) + 4] = 1;
        SquareWindowMorphology.Dilate(map, w, h, r);
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                map[(y * w) + x].Should().Be(Math.Max(Math.Abs(x - 4), Math.Abs(y - 3)) <= r ? 1 : 0, $"pixel ({x}, {y})");
            }
        }
    }

    [Fact]
    public void Eroding_undoes_the_dilation_of_a_block_away_from_the_border_and_keeps_grey_levels()
    {
        const int w = 12, h = 12;
        var map = new float[w * h];
        for (var y = 4; y < 8; y++)
        {
            for (var x = 4; x < 8; x++)
            {
                map[(y * w) + x] = 0.7f;
            }
        }
        var original = map.ToArray();
        SquareWindowMorphology.Dilate(map, w, h, 1);
        map.Count(v => v == 0.7f).Should().Be(36);
        SquareWindowMorphology.Erode(map, w, h, 1);
        map.Should().Equal(original);
    }

    [Fact]
    public void A_wrongly_sized_map_or_negative_radius_is_refused()
    {
        var wrong = () => SquareWindowMorphology.Dilate(new float[5], 2, 2, 1);
        wrong.Should().Throw<ArgumentException>();
        var negative = () => SquareWindowMorphology.Erode(new float[4], 2, 2, -1);
        negative.Should().Throw<ArgumentOutOfRangeException>();
    }
}
