using SpineSegDiff.Segmentation.Evaluation;

namespace SpineSegDiff.Segmentation.Tests.Evaluation;

public sealed class EvaluationMathTests
{
    [Fact]
    public void Auroc_is_one_when_every_error_is_more_uncertain_than_every_correct_pixel()
    {
        var curve = new ErrorDetectionCurve();
        curve.Add([0.9f, 0.8f, 0.1f, 0.2f, 0.0f], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]);
        curve.Auroc().Should().BeApproximately(1, 1e-12);
        curve.ErrorCount.Should().Be(2);
        curve.CorrectCount.Should().Be(3);
    }

    [Fact]
    public void Auroc_is_zero_when_reversed_and_one_half_for_ties()
    {
        var reversed = new ErrorDetectionCurve();
        reversed.Add([0.1f, 0.9f], [1, 0], [0, 0]);
        reversed.Auroc().Should().BeApproximately(0, 1e-12);

        var tied = new ErrorDetectionCurve();
        tied.Add([0.5f, 0.5f, 0.5f], [1, 0, 0], [0, 0, 0]);
        tied.Auroc().Should().BeApproximately(0.5, 1e-12);
    }

    [Fact]
    public void Auroc_matches_the_mann_whitney_count_on_a_mixed_example()
    {
        // Errors at 0.3 and 0.7; correct at 0.1, 0.5, 0.7 (tie), 0.9.
        // Pairs (error > correct): 0.3 beats 0.1; 0.7 beats 0.1, 0.5, ties 0.7 (1/2) -> 3.5 of 8.
        var curve = new ErrorDetectionCurve();
        curve.Add([0.3f, 0.7f, 0.1f, 0.5f, 0.7f, 0.9f], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]);
        curve.Auroc().Should().BeApproximately(3.5 / 8, 1e-12);
    }

    [Fact]
    public void Auroc_counts_only_selected_pixels_and_is_undefined_without_errors()
    {
        var curve = new ErrorDetectionCurve();
        curve.Add([0.9f, 0.1f, 0.95f], [1, 0, 0], [0, 0, 0], [true, true, false]);
        curve.CorrectCount.Should().Be(1);
        curve.Auroc().Should().Be(1);
        var none = new ErrorDetectionCurve();
        none.Add([0.5f], [0], [0]);
        double.IsNaN(none.Auroc()).Should().BeTrue();
    }

    [Fact]
    public void Correlations_and_spread_match_hand_computed_values()
    {
        Statistics.Pearson([1, 2, 3, 4], [2, 4, 6, 8]).Should().BeApproximately(1, 1e-12);
        Statistics.Pearson([1, 2, 3, 4], [8, 6, 4, 2]).Should().BeApproximately(-1, 1e-12);
        // Monotone but not linear: Spearman 1, Pearson below 1.
        Statistics.Spearman([1, 2, 3, 4], [1, 4, 9, 100]).Should().BeApproximately(1, 1e-12);
        Statistics.Pearson([1, 2, 3, 4], [1, 4, 9, 100]).Should().BeLessThan(0.9);
        Statistics.StandardDeviation([2, 4, 4, 4, 5, 5, 7, 9]).Should().BeApproximately(Math.Sqrt(32.0 / 7), 1e-12);
        Statistics.Spearman([1, 1, 2], [3, 3, 4]).Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void Per_disc_dice_scores_each_disc_against_nearby_predictions_only()
    {
        const int w = 20, h = 20;
        var ranks = new byte[w * h];
        var predicted = new byte[w * h];
        // Disc 1: rows 2-3, columns 2-9 (16 px), predicted exactly. Disc 2: rows 14-15, same columns, predicted
        // shifted down one row (8 of 16 overlap, 16 predicted).
        for (var x = 2; x < 10; x++)
        {
            ranks[(2 * w) + x] = ranks[(3 * w) + x] = 1;
            predicted[(2 * w) + x] = predicted[(3 * w) + x] = 3;
            ranks[(14 * w) + x] = ranks[(15 * w) + x] = 2;
            predicted[(15 * w) + x] = predicted[(16 * w) + x] = 3;
        }
        var dice = PerDiscDice.Compute(predicted, ranks, w, h, margin: 3);
        dice.Should().HaveCount(2);
        dice[0].Should().Be((1, 1.0));
        dice[1].Rank.Should().Be(2);
        dice[1].Dice.Should().BeApproximately(2.0 * 8 / (16 + 16), 1e-12);
    }

    [Fact]
    public void Disc_errors_on_the_true_edge_are_told_apart_from_errors_away_from_it()
    {
        // A 3-row disc in a 7x7 map; the prediction moves its upper edge up one row (7 errors on the edge), adds a
        // pixel two rows below it (away) and misses nothing else.
        const int width = 7;
        var truth = new byte[width * width];
        var predicted = new byte[width * width];
        for (var x = 0; x < width; x++)
        {
            for (var y = 2; y <= 4; y++)
            {
                truth[(y * width) + x] = 3;
                predicted[(y * width) + x] = 3;
            }
            predicted[(1 * width) + x] = 3;
        }
        predicted[(6 * width) + 3] = 3;
        predicted[(3 * width) + 3] = 2;

        var errors = new EdgeErrors();
        errors.Add(predicted, truth, 3, width);

        errors.OnEdge.Should().Be(7, "row 1 touches the disc's top row");
        errors.OnEdgeTooLarge.Should().Be(7, "row 1 is outside the true disc");
        errors.Away.Should().Be(2, "row 6 is two rows from the disc, and the disc's middle pixel is inside it");
        errors.EdgeShare.Should().BeApproximately(7.0 / 9, 1e-12);
        FluentActions.Invoking(() => errors.Add(predicted.AsSpan(1), truth, 3, width)).Should().Throw<ArgumentException>();
    }
}
