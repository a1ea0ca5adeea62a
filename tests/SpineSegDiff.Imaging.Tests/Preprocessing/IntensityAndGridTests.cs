using SpineSegDiff.Imaging.Preprocessing;

namespace SpineSegDiff.Imaging.Tests.Preprocessing;

public sealed class IntensityAndGridTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1001)]
    [InlineData(250_000)]
    public void Percentile_matches_linear_interpolation_of_the_sorted_values(int count)
    {
        var random = new Random(count);
        var values = new float[count];
        for (var n = 0; n < count; n++)
        {
            // Skewed with ties and a flat background, like an MR slice.
            values[n] = n % 3 == 0 ? 0 : MathF.Round((float)Math.Pow(random.NextDouble(), 3) * 4000);
        }
        var sorted = values.Order().ToArray();
        var position = 0.98 * (count - 1);
        var lo = (int)Math.Floor(position);
        var hi = Math.Min(lo + 1, count - 1);
        var expected = sorted[lo] + (position - lo) * (sorted[hi] - sorted[lo]);
        IntensityNormalizer.Percentile(values).Should().BeApproximately((float)expected, 1e-3f);
    }

    [Fact]
    public void Normalisation_maps_the_98th_percentile_to_one_and_clips()
    {
        var values = Enumerable.Range(0, 101).Select(v => (float)v).ToArray();
        var output = new float[values.Length];
        var reference = IntensityNormalizer.Normalize(values, output);
        reference.Should().Be(98);
        output[98].Should().Be(1);
        output[49].Should().BeApproximately(0.5f, 1e-6f);
        output[100].Should().Be(1);
        output.Should().OnlyContain(v => v >= 0 && v <= 1);
    }

    [Fact]
    public void A_blank_image_stays_blank() =>
        IntensityNormalizer.Normalize(new float[64], new float[64]).Should().Be(0);

    [Theory]
    [InlineData(512, 512, 0.5859375, 0.5859375)]
    [InlineData(797, 492, 0.38792314385787563, 0.6305175528662943)]
    [InlineData(200, 150, 1.2, 2.0)]
    public void Grid_transform_is_centred_one_millimetre_and_invertible(int rows, int cols, double rowSpacing, double colSpacing)
    {
        var t = new CanonicalGridTransform(rows, cols, rowSpacing, colSpacing);
        t.SourceRow(159.5).Should().BeApproximately((rows - 1) / 2.0, 1e-9);
        (t.SourceRow(101) - t.SourceRow(100)).Should().BeApproximately(1 / rowSpacing, 1e-12, "one grid pixel is one millimetre");
        t.GridColumn(t.SourceColumn(17.25)).Should().BeApproximately(17.25, 1e-9);
    }

    [Fact]
    public void A_source_already_at_one_millimetre_round_trips_labels_exactly()
    {
        var t = new CanonicalGridTransform(300, 260, 1.0, 1.0);
        var labels = new byte[300 * 260];
        var random = new Random(3);
        for (var n = 0; n < labels.Length; n++)
        {
            labels[n] = (byte)random.Next(4);
        }
        var grid = new byte[320 * 320];
        SliceResampler.LabelsToGrid(t, labels, grid);
        var back = new byte[labels.Length];
        SliceResampler.LabelsFromGrid(t, grid, back);
        back.Should().Equal(labels);
    }

    [Fact]
    public void Larger_fields_of_view_are_cropped_evenly_and_cropped_parts_map_back_to_background()
    {
        var t = new CanonicalGridTransform(400, 400, 1.0, 1.0);
        var image = Enumerable.Repeat(1f, 400 * 400).ToArray();
        var grid = new float[320 * 320];
        SliceResampler.ToGrid(t, image, grid);
        grid.Should().OnlyContain(v => v == 1f);
        var back = new float[400 * 400];
        SliceResampler.FromGrid(t, grid, back);
        back[0].Should().Be(0, "the corner was cropped away");
        back[200 * 400 + 200].Should().Be(1);
        back[40 * 400 + 200].Should().Be(1, "40 px from the edge is the first row kept");
        back[38 * 400 + 200].Should().Be(0);
    }
}
