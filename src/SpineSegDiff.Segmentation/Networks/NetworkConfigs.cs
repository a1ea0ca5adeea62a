using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Segmentation.Networks;

/// <summary>
/// Shape of the presegmentation U-Net (nnU-Net-style 2D: conv-InstanceNorm-LeakyReLU, strided-conv down, transposed-conv
/// up, skips). One width per resolution level; images must divide by 2^(levels-1). Stored in every checkpoint.
/// </summary>
public sealed record PresegmentationConfig
{
    public static PresegmentationConfig Default { get; } = new();

    public IReadOnlyList<int> Widths { get; init; } = [16, 32, 64, 128, 256];

    /// <summary>LeakyReLU negative slope (nnU-Net's 0.01).</summary>
    public float LeakySlope { get; init; } = 0.01f;

    public bool Equals(PresegmentationConfig? other) =>
        other is not null && Widths.SequenceEqual(other.Widths) && LeakySlope.Equals(other.LeakySlope);

    public override int GetHashCode() => HashCode.Combine(NetworkConfigs.WidthsHash(Widths), LeakySlope);

    internal NativeMethods.NetworkConfigStruct ToNative() =>
        NetworkConfigs.ToNative(NetworkKind.Presegmentation, Widths, 0, LeakySlope);
}

/// <summary>
/// Shape of the SpineSegDiff network: an image encoder and a denoising U-Net of the same widths (the encoder's feature
/// at each level is added to the denoiser's), conditioned on the timestep through a sinusoidal embedding of
/// <see cref="TimeEmbeddingDim"/> and an MLP of 4x that width. Stored in every checkpoint.
/// </summary>
public sealed record SpineSegDiffConfig
{
    public static SpineSegDiffConfig Default { get; } = new();

    public IReadOnlyList<int> Widths { get; init; } = [16, 32, 64, 128, 256];

    /// <summary>Sinusoidal timestep embedding size (even); the time MLP is 4x wider.</summary>
    public int TimeEmbeddingDim { get; init; } = 32;

    /// <summary>LeakyReLU negative slope (the reference code's 0.1).</summary>
    public float LeakySlope { get; init; } = 0.1f;

    public bool Equals(SpineSegDiffConfig? other) =>
        other is not null && Widths.SequenceEqual(other.Widths) && TimeEmbeddingDim == other.TimeEmbeddingDim
        && LeakySlope.Equals(other.LeakySlope);

    public override int GetHashCode() =>
        HashCode.Combine(NetworkConfigs.WidthsHash(Widths), TimeEmbeddingDim, LeakySlope);

    internal NativeMethods.NetworkConfigStruct ToNative() =>
        NetworkConfigs.ToNative(NetworkKind.Diffusion, Widths, TimeEmbeddingDim, LeakySlope);
}

/// <summary>AdamW settings; the learning-rate schedule is the caller's (set <see cref="SegmentationNetwork.LearningRate"/> per step).</summary>
public sealed record OptimizerSettings(double LearningRate = 1e-4, double WeightDecay = 1e-3)
{
    public static OptimizerSettings Default { get; } = new();
}

/// <summary>Loss of one training step and its parts (Mse is 0 for the presegmentation network).</summary>
public readonly record struct TrainingLoss(double Total, double Mse, double Dice, double BinaryCrossEntropy);

internal enum NetworkKind
{
    Presegmentation = 1,
    Diffusion = 2,
}

internal static class NetworkConfigs
{
    public static unsafe NativeMethods.NetworkConfigStruct ToNative(
        NetworkKind kind, IReadOnlyList<int> widths, int timeEmbeddingDim, float leakySlope)
    {
        ArgumentNullException.ThrowIfNull(widths);
        if (widths.Count is < 2 or > NativeMethods.MaxLevels)
        {
            throw new ArgumentException($"a network needs 2..{NativeMethods.MaxLevels} widths, got {widths.Count}", nameof(widths));
        }

        var native = new NativeMethods.NetworkConfigStruct
        {
            Kind = (int)kind,
            LevelCount = widths.Count,
            TimeEmbeddingDim = timeEmbeddingDim,
            LeakySlope = leakySlope,
        };
        for (var level = 0; level < widths.Count; level++)
        {
            native.Widths[level] = widths[level];
        }

        return native;
    }

    public static unsafe int[] Widths(in NativeMethods.NetworkConfigStruct native)
    {
        var widths = new int[native.LevelCount];
        for (var level = 0; level < widths.Length; level++)
        {
            widths[level] = native.Widths[level];
        }

        return widths;
    }

    public static int WidthsHash(IReadOnlyList<int> widths)
    {
        var hash = new HashCode();
        foreach (var width in widths)
        {
            hash.Add(width);
        }

        return hash.ToHashCode();
    }
}
