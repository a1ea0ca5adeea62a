using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Segmentation.Networks;

/// <summary>
/// The presegmentation U-Net: batch x 1 x H x W slices to batch x 3 x H x W logits, channel 0 spinal canal,
/// 1 vertebra, 2 intervertebral disc (sigmoid per channel, background implicit). Buffers are NCHW row-major and are
/// passed to the engine without copies. Train with <see cref="TrainStep"/> (soft Dice + BCE, AdamW).
/// </summary>
public sealed class PresegmentationNetwork : SegmentationNetwork
{
    public const int OutputChannels = 3;

    private PresegmentationNetwork(ModelHandle model)
        : base(model)
    {
        var native = NativeConfig();
        Config = new PresegmentationConfig { Widths = NetworkConfigs.Widths(native), LeakySlope = native.LeakySlope };
    }

    public PresegmentationConfig Config { get; }

    /// <summary>A freshly initialised network (seed with <see cref="TorchRuntime.ManualSeed"/> for reproducibility).</summary>
    public static PresegmentationNetwork Create(PresegmentationConfig? config = null, ComputeDevice device = ComputeDevice.Auto) =>
        new(CreateModel((config ?? PresegmentationConfig.Default).ToNative(), device));

    /// <summary>
    /// Loads a checkpoint written by <see cref="SegmentationNetwork.Save"/>; every parameter name and shape is checked
    /// against the stored configuration. With <paramref name="restoreOptimizer"/> the AdamW state is restored too.
    /// </summary>
    public static PresegmentationNetwork Load(string path, ComputeDevice device = ComputeDevice.Auto, bool restoreOptimizer = false) =>
        Load(path, NetworkKind.Presegmentation, device, restoreOptimizer, model => new PresegmentationNetwork(model));

    /// <summary>Logits for <paramref name="images"/> (batch x 1 x height x width) into <paramref name="logits"/> (batch x 3 x height x width).</summary>
    public unsafe void Forward(ReadOnlySpan<float> images, int batch, int height, int width, Span<float> logits)
    {
        RequirePositive(batch, height, width);
        RequireLength(images, (long)batch * height * width, nameof(images));
        RequireLength<float>(logits, (long)batch * OutputChannels * height * width, nameof(logits));
        fixed (float* input = images)
        fixed (float* output = logits)
        {
            NativeEngine.Check(NativeMethods.PresegForward(Model, input, batch, height, width, output), "presegmentation forward");
        }
    }

    public float[] Forward(ReadOnlySpan<float> images, int batch, int height, int width)
    {
        var logits = new float[(long)batch * OutputChannels * height * width];
        Forward(images, batch, height, width, logits);
        return logits;
    }

    /// <summary>Per-channel sigmoid probabilities (batch x 3 x height x width).</summary>
    public float[] PredictProbabilities(ReadOnlySpan<float> images, int batch, int height, int width)
    {
        var output = Forward(images, batch, height, width);
        for (var i = 0; i < output.Length; i++)
        {
            output[i] = 1f / (1f + MathF.Exp(-output[i]));
        }

        return output;
    }

    /// <summary>
    /// One AdamW step on soft Dice + binary cross-entropy. <paramref name="labels"/> is the batch x height x width label
    /// map (0 background, 1 spinal canal, 2 vertebra, 3 disc).
    /// </summary>
    public unsafe TrainingLoss TrainStep(ReadOnlySpan<float> images, ReadOnlySpan<byte> labels, int batch, int height, int width)
    {
        RequirePositive(batch, height, width);
        RequireLength(images, (long)batch * height * width, nameof(images));
        RequireLength(labels, (long)batch * height * width, nameof(labels));
        var optimizer = RequireOptimizer();
        NativeMethods.LossStruct loss;
        fixed (float* input = images)
        fixed (byte* target = labels)
        {
            NativeEngine.Check(
                NativeMethods.PresegTrainStep(Model, optimizer, input, target, batch, height, width, out loss),
                "presegmentation training step");
        }

        return new TrainingLoss(loss.Total, loss.Mse, loss.Dice, loss.Bce);
    }
}
