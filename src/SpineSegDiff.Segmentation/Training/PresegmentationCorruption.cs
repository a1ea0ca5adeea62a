using SpineSegDiff.Imaging.Analysis;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// Perturbs the presegmentation that SpineSegDiff is trained to refine. On training anatomy the presegmentation is
/// nearly right, so a refiner trained on it alone learns to copy its input and repeats its mistakes on unseen patients.
/// Perturbing a fraction of the inputs with the errors a presegmentation makes on unseen anatomy (boundaries a few
/// pixels off, a local region missed or given to the neighbouring class) makes the image the only way to the target.
/// </summary>
public sealed class PresegmentationCorruption
{
    private const int Channels = 3;
    private const int Vertebra = 1;
    private const int Disc = 2;

    public PresegmentationCorruption(double fraction)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fraction, 1);
        Fraction = fraction;
    }

    /// <summary>Share of the inputs that are perturbed; the rest stay as the presegmentation gave them.</summary>
    public double Fraction { get; }

    /// <summary>Perturbs one image's class probabilities (3 x height x width, in [0, 1]) in place, or not.</summary>
    public void Apply(Span<float> probabilities, int height, int width, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var pixels = height * width;
        if (probabilities.Length != Channels * pixels)
        {
            throw new ArgumentException($"Expected {Channels} x {height} x {width} probabilities.", nameof(probabilities));
        }
        if (random.NextDouble() >= Fraction)
        {
            return;
        }

        for (var c = 0; c < Channels; c++)
        {
            // Each class map grows or shrinks by up to 3 px (0: left as it is).
            var radius = random.Next(-3, 4);
            var channel = probabilities.Slice(c * pixels, pixels);
            if (radius > 0)
            {
                SquareWindowMorphology.Dilate(channel, width, height, radius);
            }
            else if (radius < 0)
            {
                SquareWindowMorphology.Erode(channel, width, height, -radius);
            }
        }

        var regions = random.Next(0, 4);
        for (var k = 0; k < regions; k++)
        {
            CorruptRegion(probabilities, height, width, random);
        }
    }

    /// <summary>
    /// Inside a disc-sized circle centred on the anatomy (a few draws for a foreground pixel): erase every class, or
    /// swap vertebra and disc.
    /// </summary>
    private static void CorruptRegion(Span<float> probabilities, int height, int width, Random random)
    {
        var pixels = height * width;
        var radius = random.Next(5, 16);
        int cx, cy, attempts = 0;
        do
        {
            cx = random.Next(width);
            cy = random.Next(height);
        }
        while (++attempts < 20 && !IsForeground(probabilities, pixels, (cy * width) + cx));
        var erase = random.Next(2) == 0;
        for (var y = Math.Max(0, cy - radius); y <= Math.Min(height - 1, cy + radius); y++)
        {
            for (var x = Math.Max(0, cx - radius); x <= Math.Min(width - 1, cx + radius); x++)
            {
                if (((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) > radius * radius)
                {
                    continue;
                }
                var i = (y * width) + x;
                if (erase)
                {
                    for (var c = 0; c < Channels; c++)
                    {
                        probabilities[(c * pixels) + i] = 0;
                    }
                }
                else
                {
                    (probabilities[(Vertebra * pixels) + i], probabilities[(Disc * pixels) + i]) =
                        (probabilities[(Disc * pixels) + i], probabilities[(Vertebra * pixels) + i]);
                }
            }
        }
    }

    private static bool IsForeground(ReadOnlySpan<float> probabilities, int pixels, int index) =>
        probabilities[index] > 0.5f || probabilities[pixels + index] > 0.5f || probabilities[(2 * pixels) + index] > 0.5f;
}
