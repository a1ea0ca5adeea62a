using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Segmentation.Tests.Training;

public sealed class PresegmentationCorruptionTests
{
    private const int Size = 48;
    private const int Pixels = Size * Size;

    /// <summary>A confident presegmentation: canal stripe, vertebra block with a disc band.</summary>
    private static float[] Presegmentation()
    {
        var p = new float[3 * Pixels];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var i = (y * Size) + x;
                if (x is >= 36 and < 42)
                {
                    p[i] = 1;
                }
                else if (x is >= 8 and < 30)
                {
                    p[((y % 16) < 5 ? 2 : 1) * Pixels + i] = 1;
                }
            }
        }
        return p;
    }

    [Fact]
    public void A_zero_fraction_never_changes_the_input()
    {
        var corruption = new PresegmentationCorruption(0);
        var random = new Random(3);
        for (var k = 0; k < 20; k++)
        {
            var p = Presegmentation();
            corruption.Apply(p, Size, Size, random);
            p.Should().Equal(Presegmentation());
        }
    }

    [Fact]
    public void A_full_fraction_perturbs_inputs_and_keeps_them_probabilities()
    {
        var corruption = new PresegmentationCorruption(1);
        var random = new Random(5);
        var changed = 0;
        for (var k = 0; k < 20; k++)
        {
            var p = Presegmentation();
            corruption.Apply(p, Size, Size, random);
            p.Should().OnlyContain(v => v >= 0 && v <= 1);
            if (!p.SequenceEqual(Presegmentation()))
            {
                changed++;
            }
        }
        // Each input draws a radius per class (0 of 7 choices leaves it) and 0-3 regions: nearly all change.
        changed.Should().BeGreaterThan(15);
    }

    [Fact]
    public void The_same_random_stream_gives_the_same_perturbation()
    {
        var corruption = new PresegmentationCorruption(0.5);
        var a = Presegmentation();
        var b = Presegmentation();
        corruption.Apply(a, Size, Size, new Random(9));
        corruption.Apply(b, Size, Size, new Random(9));
        a.Should().Equal(b);
    }

    [Fact]
    public void A_wrongly_sized_input_or_fraction_is_refused()
    {
        var act = () => new PresegmentationCorruption(1).Apply(new float[Pixels], Size, Size, new Random(1));
        act.Should().Throw<ArgumentException>();
        var bad = () => new PresegmentationCorruption(1.5);
        bad.Should().Throw<ArgumentOutOfRangeException>();
    }
}
