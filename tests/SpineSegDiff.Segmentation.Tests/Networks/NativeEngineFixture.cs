using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Diffusion;
using SpineSegDiff.Segmentation.Networks;
using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Segmentation.Tests.Networks;

/// <summary>One runtime for all native tests: fixed threads so results are reproducible, run one test at a time.</summary>
public sealed class NativeEngineFixture
{
    public NativeEngineFixture() => Runtime = new TorchRuntime(new TorchRuntimeOptions { Threads = 2 });

    public TorchRuntime Runtime { get; }
}

[CollectionDefinition(Name)]
public sealed class NativeEngineCollection : ICollectionFixture<NativeEngineFixture>
{
    public const string Name = "native engine";
}

/// <summary>Small networks and a fixed synthetic batch: bright disc/canal rectangles on a darker vertebra/background.</summary>
internal static class TinyBatch
{
    public const int Size = 64;

    public static PresegmentationConfig PresegConfig { get; } = new() { Widths = [8, 16, 32] };

    public static SpineSegDiffConfig DiffusionConfig { get; } = new() { Widths = [8, 16, 32], TimeEmbeddingDim = 16 };

    public static (float[] Images, byte[] Labels) Make(int batch, int seed = 7)
    {
        var random = new Random(seed);
        var images = new float[batch * Size * Size];
        var labels = new byte[batch * Size * Size];
        for (var b = 0; b < batch; b++)
        {
            var shift = random.Next(0, 8);
            for (var y = 0; y < Size; y++)
            {
                for (var x = 0; x < Size; x++)
                {
                    byte label = 0;
                    if (x is >= 40 and < 46)
                    {
                        label = 1;
                    }
                    else if (x >= 12 + shift && x < 34 + shift)
                    {
                        label = (y % 16) < 4 ? (byte)3 : (byte)2;
                    }

                    var i = (b * Size + y) * Size + x;
                    labels[i] = label;
                    var intensity = label switch { 1 => 0.9f, 2 => 0.4f, 3 => 0.75f, _ => 0.1f };
                    images[i] = intensity + (float)(random.NextDouble() - 0.5) * 0.1f;
                }
            }
        }

        return (images, labels);
    }

    /// <summary>The label map as a 3-channel mask in {-1, 1} (canal, vertebra, disc).</summary>
    public static float[] CleanMasks(byte[] labels, int batch)
    {
        var masks = new float[batch * 3 * Size * Size];
        LabelDecoding.ToOneHotBatch(labels, batch, masks, inside: 1f, outside: -1f);
        return masks;
    }

    /// <summary>x_t = sqrt(a) x0 + sqrt(1 - a) noise with a fixed alpha-bar, seeded.</summary>
    public static float[] Noised(float[] clean, double alphaBar, int seed)
    {
        var noise = new float[clean.Length];
        GaussianNoise.Fill(new Random(seed), noise);
        var noisy = new float[clean.Length];
        for (var i = 0; i < clean.Length; i++)
        {
            noisy[i] = (float)((Math.Sqrt(alphaBar) * clean[i]) + (Math.Sqrt(1 - alphaBar) * noise[i]));
        }

        return noisy;
    }
}
