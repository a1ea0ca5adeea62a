namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// One batch of training slices, laid out as the networks take them: images B×1×H×W in [0, 1] and label maps
/// B×H×W in the project convention. Buffers are reused across batches by <see cref="TrainingBatchProducer"/>.
/// </summary>
public sealed class TrainingBatch
{
    public TrainingBatch(int batchSize, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        BatchSize = batchSize;
        Height = height;
        Width = width;
        Images = new float[batchSize * height * width];
        Labels = new byte[batchSize * height * width];
        Patients = new int[batchSize];
    }

    public int BatchSize { get; }

    public int Height { get; }

    public int Width { get; }

    public int Pixels => Height * Width;

    /// <summary>The training step this batch belongs to; its content is a pure function of (seed, step).</summary>
    public int Step { get; internal set; }

    public float[] Images { get; }

    public byte[] Labels { get; }

    /// <summary>The SPIDER patient of each sample (out-of-fold presegmentation picks its network by it).</summary>
    public int[] Patients { get; }

    public Span<float> Image(int index) => Images.AsSpan(index * Pixels, Pixels);

    public Span<byte> LabelMap(int index) => Labels.AsSpan(index * Pixels, Pixels);
}
