namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// Turns the networks' three per-class maps (channel-major: canal, vertebra, disc) into one label map. The classes
/// are sigmoid channels and may overlap at boundaries; a pixel takes the most probable class among those at or above
/// the threshold, and stays background when none is.
/// </summary>
public static class LabelDecoding
{
    public const float DefaultThreshold = 0.5f;

    public static void ToLabels(ReadOnlySpan<float> probabilities, Span<byte> labels, float threshold = DefaultThreshold)
    {
        var pixels = labels.Length;
        if (probabilities.Length != DiceScore.ClassCount * pixels)
        {
            throw new ArgumentException($"Expected {DiceScore.ClassCount} maps of {pixels} pixels, got {probabilities.Length} values.");
        }
        for (var i = 0; i < pixels; i++)
        {
            byte best = 0;
            var bestValue = threshold;
            for (var c = 0; c < DiceScore.ClassCount; c++)
            {
                var value = probabilities[(c * pixels) + i];
                if (value >= bestValue)
                {
                    best = (byte)(c + 1);
                    bestValue = value;
                }
            }
            labels[i] = best;
        }
    }

    /// <summary>One-hot targets for the three classes: 1 inside the class, 0 elsewhere (channel-major).</summary>
    public static void ToOneHot(ReadOnlySpan<byte> labels, Span<float> target, float inside = 1f, float outside = 0f)
    {
        var pixels = labels.Length;
        if (target.Length != DiceScore.ClassCount * pixels)
        {
            throw new ArgumentException($"Expected room for {DiceScore.ClassCount} maps of {pixels} pixels, got {target.Length}.");
        }
        for (var c = 0; c < DiceScore.ClassCount; c++)
        {
            var plane = target.Slice(c * pixels, pixels);
            var label = (byte)(c + 1);
            for (var i = 0; i < pixels; i++)
            {
                plane[i] = labels[i] == label ? inside : outside;
            }
        }
    }

    /// <summary><see cref="ToOneHot"/> for each of <paramref name="batch"/> label maps (B×H×W into B×3×H×W).</summary>
    public static void ToOneHotBatch(ReadOnlySpan<byte> labels, int batch, Span<float> target, float inside = 1f, float outside = 0f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var pixels = labels.Length / batch;
        for (var b = 0; b < batch; b++)
        {
            ToOneHot(labels.Slice(b * pixels, pixels), target.Slice(b * DiceScore.ClassCount * pixels, DiceScore.ClassCount * pixels), inside, outside);
        }
    }
}
