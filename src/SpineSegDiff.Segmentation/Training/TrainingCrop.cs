namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// Cuts a square training patch out of a 320x320 sample: mostly centred near the labelled anatomy with a random
/// offset, and a share (<see cref="AnywhereFraction"/>) anywhere in the slice. The networks are fully convolutional,
/// so training on patches and predicting whole slices is sound, and a 192-pixel patch costs about a third of a full
/// slice per step, which is what makes CPU training fit in a session. The patches anywhere matter: trained on
/// anatomy-centred patches only, a model never saw the slice's edges (skin, fat, coil fall-off) and marked
/// vertebrae and discs there on whole validation slices.
/// </summary>
public static class TrainingCrop
{
    public const double AnywhereFraction = 0.3;

    public static void Extract(ReadOnlySpan<float> image, ReadOnlySpan<byte> labels, int size, int crop, Random random, Span<float> imageCrop, Span<byte> labelCrop)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (crop > size || imageCrop.Length != crop * crop || labelCrop.Length != crop * crop || image.Length != size * size || labels.Length != size * size)
        {
            throw new ArgumentException($"A {crop}-pixel crop of a {size}-pixel image needs matching buffers.");
        }
        long sumRow = 0, sumColumn = 0, count = 0;
        for (var r = 0; r < size; r++)
        {
            var row = labels.Slice(r * size, size);
            for (var c = 0; c < size; c++)
            {
                if (row[c] != 0)
                {
                    sumRow += r;
                    sumColumn += c;
                    count++;
                }
            }
        }
        var centreRow = count > 0 ? (double)sumRow / count : size / 2.0;
        var centreColumn = count > 0 ? (double)sumColumn / count : size / 2.0;
        int top, left;
        if (random.NextDouble() < AnywhereFraction)
        {
            top = random.Next(size - crop + 1);
            left = random.Next(size - crop + 1);
        }
        else
        {
            var jitter = (size - crop) / 4.0;
            top = Math.Clamp((int)Math.Round(centreRow - (crop / 2.0) + ((random.NextDouble() * 2) - 1) * jitter), 0, size - crop);
            left = Math.Clamp((int)Math.Round(centreColumn - (crop / 2.0) + ((random.NextDouble() * 2) - 1) * jitter), 0, size - crop);
        }
        for (var r = 0; r < crop; r++)
        {
            image.Slice(((top + r) * size) + left, crop).CopyTo(imageCrop.Slice(r * crop, crop));
            labels.Slice(((top + r) * size) + left, crop).CopyTo(labelCrop.Slice(r * crop, crop));
        }
    }
}
