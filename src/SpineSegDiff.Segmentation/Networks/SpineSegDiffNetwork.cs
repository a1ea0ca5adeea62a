using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Segmentation.Networks;

/// <summary>
/// The SpineSegDiff network: an image encoder (<see cref="EncodeImage"/>) and a denoising U-Net
/// (<see cref="Denoise"/>) that takes the image, a noisy 3-channel mask x_t in [-1, 1] and an integer timestep per
/// batch element and predicts the clean mask x0 in [-1, 1] (channels: spinal canal, vertebra, disc). The noise
/// schedule and sampler are the caller's. Train with <see cref="TrainStep"/> (MSE + Dice + BCE, AdamW).
/// </summary>
public sealed class SpineSegDiffNetwork : SegmentationNetwork
{
    public const int MaskChannels = 3;

    private SpineSegDiffNetwork(ModelHandle model)
        : base(model)
    {
        var native = NativeConfig();
        Config = new SpineSegDiffConfig
        {
            Widths = NetworkConfigs.Widths(native),
            TimeEmbeddingDim = native.TimeEmbeddingDim,
            LeakySlope = native.LeakySlope,
        };
    }

    public SpineSegDiffConfig Config { get; }

    public static SpineSegDiffNetwork Create(SpineSegDiffConfig? config = null, ComputeDevice device = ComputeDevice.Auto) =>
        new(CreateModel((config ?? SpineSegDiffConfig.Default).ToNative(), device));

    /// <summary>Loads a checkpoint (names and shapes checked); see <see cref="PresegmentationNetwork.Load"/>.</summary>
    public static SpineSegDiffNetwork Load(string path, ComputeDevice device = ComputeDevice.Auto, bool restoreOptimizer = false) =>
        Load(path, NetworkKind.Diffusion, device, restoreOptimizer, model => new SpineSegDiffNetwork(model));

    /// <summary>
    /// Warm start from a trained presegmentation network of the same widths: afterwards, and before any training, the
    /// x0 prediction equals the presegmentation ((x0 + 1) / 2 = its probabilities) whatever the noisy mask, because
    /// the image encoder, decoder and head carry its weights and the mask branch starts at zero (the ControlNet
    /// idea). Training then only has to learn how the noisy presegmentation can improve on it.
    /// </summary>
    public void InitialiseFrom(PresegmentationNetwork presegmentation)
    {
        ArgumentNullException.ThrowIfNull(presegmentation);
        NativeEngine.Check(NativeMethods.DiffusionInitFromPresegmentation(Model, presegmentation.Model), "warm start from the presegmentation");
    }

    /// <summary>FLOPs of one image through the image encoder.</summary>
    public long ImageEncoderFlops(int height, int width) => Flops(1, height, width);

    /// <summary>Runs the image encoder on batch x 1 x height x width images.</summary>
    public unsafe ImageFeatures EncodeImage(ReadOnlySpan<float> images, int batch, int height, int width)
    {
        RequirePositive(batch, height, width);
        RequireLength(images, (long)batch * height * width, nameof(images));
        FeaturesHandle handle;
        fixed (float* input = images)
        {
            NativeEngine.Check(NativeMethods.DiffusionEncode(Model, input, batch, height, width, out handle), "image encoding");
        }

        try
        {
            return new ImageFeatures(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Predicts x0 for <paramref name="noisyMasks"/> (batch x 3 x H x W, batch = <paramref name="timesteps"/>.Length)
    /// into <paramref name="cleanMasks"/> (same shape). Features of batch 1 are shared by every element.
    /// </summary>
    public unsafe void Denoise(ImageFeatures features, ReadOnlySpan<float> noisyMasks, ReadOnlySpan<long> timesteps, Span<float> cleanMasks)
    {
        ArgumentNullException.ThrowIfNull(features);
        var batch = timesteps.Length;
        RequirePositive(batch, features.Height, features.Width);
        var size = (long)batch * MaskChannels * features.Height * features.Width;
        RequireLength(noisyMasks, size, nameof(noisyMasks));
        RequireLength<float>(cleanMasks, size, nameof(cleanMasks));
        fixed (float* noisy = noisyMasks)
        fixed (long* steps = timesteps)
        fixed (float* clean = cleanMasks)
        {
            NativeEngine.Check(
                NativeMethods.DiffusionDenoise(Model, features.Handle, noisy, steps, batch, features.Height, features.Width, clean),
                "denoising");
        }
    }

    public float[] Denoise(ImageFeatures features, ReadOnlySpan<float> noisyMasks, ReadOnlySpan<long> timesteps)
    {
        ArgumentNullException.ThrowIfNull(features);
        var clean = new float[(long)timesteps.Length * MaskChannels * features.Height * features.Width];
        Denoise(features, noisyMasks, timesteps, clean);
        return clean;
    }

    /// <summary>
    /// One AdamW step on MSE(x0_hat, x0) + Dice + BCE of the [0, 1]-mapped prediction (paper appendix A.2).
    /// images: batch x 1 x H x W; noisyMasks x_t and cleanMasks x0 (values -1 or 1): batch x 3 x H x W;
    /// batch = <paramref name="timesteps"/>.Length.
    /// </summary>
    public unsafe TrainingLoss TrainStep(
        ReadOnlySpan<float> images, ReadOnlySpan<float> noisyMasks, ReadOnlySpan<long> timesteps, ReadOnlySpan<float> cleanMasks,
        int height, int width)
    {
        var batch = timesteps.Length;
        RequirePositive(batch, height, width);
        RequireLength(images, (long)batch * height * width, nameof(images));
        RequireLength(noisyMasks, (long)batch * MaskChannels * height * width, nameof(noisyMasks));
        RequireLength(cleanMasks, (long)batch * MaskChannels * height * width, nameof(cleanMasks));
        var optimizer = RequireOptimizer();
        NativeMethods.LossStruct loss;
        fixed (float* image = images)
        fixed (float* noisy = noisyMasks)
        fixed (long* steps = timesteps)
        fixed (float* clean = cleanMasks)
        {
            NativeEngine.Check(
                NativeMethods.DiffusionTrainStep(Model, optimizer, image, noisy, steps, clean, batch, height, width, out loss),
                "diffusion training step");
        }

        return new TrainingLoss(loss.Total, loss.Mse, loss.Dice, loss.Bce);
    }
}
