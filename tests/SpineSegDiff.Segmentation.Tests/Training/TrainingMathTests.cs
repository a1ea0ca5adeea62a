using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Segmentation.Tests.Training;

public sealed class TrainingMathTests
{
    [Fact]
    public void Learning_rate_warms_up_linearly_then_decays_along_a_cosine()
    {
        var schedule = new LearningRateSchedule(1e-3, WarmupSteps: 10, TotalSteps: 110, FinalFraction: 0);
        schedule.RateAt(0).Should().BeApproximately(1e-4, 1e-12);
        schedule.RateAt(9).Should().BeApproximately(1e-3, 1e-12);
        schedule.RateAt(10).Should().BeApproximately(1e-3, 1e-12);
        schedule.RateAt(60).Should().BeApproximately(0.5e-3, 1e-12);
        schedule.RateAt(110).Should().BeApproximately(0, 1e-12);
        schedule.RateAt(500).Should().BeApproximately(0, 1e-12);
    }

    [Fact]
    public void Dice_per_class_counts_overlap_and_treats_absent_classes_as_perfect()
    {
        byte[] truth = [0, 1, 1, 2, 2, 2, 0, 0];
        byte[] guess = [0, 1, 0, 2, 2, 0, 2, 0];
        var scores = DiceScore.Compute(guess, truth);
        scores[0].Should().BeApproximately(2.0 * 1 / 3, 1e-12);
        scores[1].Should().BeApproximately(2.0 * 2 / 6, 1e-12);
        scores[2].Should().Be(1.0);
    }

    [Fact]
    public void Dice_accumulator_pools_pixels_over_slices()
    {
        var accumulator = new DiceScore.Accumulator();
        accumulator.Add([1, 1], [1, 1]);
        accumulator.Add([0, 0], [1, 1]);
        accumulator.Scores()[0].Should().BeApproximately(2.0 * 2 / 6, 1e-12);
    }

    [Fact]
    public void Labels_take_the_most_probable_class_above_the_threshold()
    {
        // Four pixels, three channel-major maps: canal, vertebra, disc.
        float[] probabilities =
        [
            0.9f, 0.2f, 0.6f, 0.1f,
            0.1f, 0.7f, 0.8f, 0.2f,
            0.0f, 0.1f, 0.3f, 0.4f,
        ];
        var labels = new byte[4];
        LabelDecoding.ToLabels(probabilities, labels);
        labels.Should().Equal(1, 2, 2, 0);

        var oneHot = new float[12];
        LabelDecoding.ToOneHot(labels, oneHot, inside: 1, outside: -1);
        oneHot.Should().Equal(1, -1, -1, -1, -1, 1, 1, -1, -1, -1, -1, -1);
    }

    [Fact]
    public void Patches_mostly_hold_the_anatomy_and_some_show_the_rest_of_the_slice()
    {
        const int size = 64, crop = 16;
        var image = new float[size * size];
        var labels = new byte[size * size];
        for (var r = 40; r < 48; r++)
        {
            for (var c = 40; c < 48; c++)
            {
                labels[(r * size) + c] = 2;
                image[(r * size) + c] = 1;
            }
        }
        var random = new Random(3);
        var imagePatch = new float[crop * crop];
        var labelPatch = new byte[crop * crop];
        var withAnatomy = 0;
        const int trials = 1000;
        for (var i = 0; i < trials; i++)
        {
            TrainingCrop.Extract(image, labels, size, crop, random, imagePatch, labelPatch);
            var labelled = labelPatch.Count(l => l == 2);
            imagePatch.Count(v => v == 1).Should().Be(labelled, "image and labels are cut at the same place");
            withAnatomy += labelled > 0 ? 1 : 0;
        }
        // 70 % are centred on the anatomy (always hit it here); of the 30 % anywhere, few hit an 8x8 square.
        ((double)withAnatomy / trials).Should().BeInRange(0.68, 0.85);
    }
}
