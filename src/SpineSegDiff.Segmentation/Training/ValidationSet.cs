using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// A fixed set of synthetic slices from the validation patients only (never trained on): for each validation case,
/// T1-like and T2-like renderings with fixed seeds, so every evaluation of every run scores the same images.
/// </summary>
public sealed class ValidationSet
{
    /// <summary>Validation seeds live far from any training seed a run can draw.</summary>
    private const int SeedBase = 1_000_000_007;

    public ValidationSet(TrainingSliceGenerator generator, int samplesPerContrast)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var samples = new List<TrainingSample>();
        foreach (var spiderCase in generator.Catalog.ValidationCases)
        {
            foreach (var contrast in new[] { MrContrast.T1, MrContrast.T2 })
            {
                for (var k = 0; k < samplesPerContrast; k++)
                {
                    var seed = SeedBase - (samples.Count * 7919);
                    samples.Add(generator.Generate(spiderCase, seed, contrast));
                }
            }
        }
        if (samples.Count == 0)
        {
            throw new InvalidOperationException("The dataset split has no validation cases.");
        }
        Samples = samples;
    }

    public IReadOnlyList<TrainingSample> Samples { get; }

    public const int Size = TrainingSliceGenerator.Size;

    /// <summary>The samples in batches: images B×1×H×W and label maps B×H×W.</summary>
    public IEnumerable<(float[] Images, byte[] Labels, int Count)> Batches(int batchSize)
    {
        const int pixels = Size * Size;
        for (var start = 0; start < Samples.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, Samples.Count - start);
            var images = new float[count * pixels];
            var labels = new byte[count * pixels];
            for (var i = 0; i < count; i++)
            {
                Samples[start + i].Image.CopyTo(images, i * pixels);
                Samples[start + i].Labels.CopyTo(labels, i * pixels);
            }
            yield return (images, labels, count);
        }
    }

    public static IReadOnlyDictionary<string, double> Named(double[] scores) => new Dictionary<string, double>
    {
        ["spinalCanal"] = scores[0],
        ["vertebra"] = scores[1],
        ["disc"] = scores[2],
    };
}
