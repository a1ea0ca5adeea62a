namespace SpineSegDiff.Imaging.Analysis;

/// <summary>What <see cref="LabelPostprocessor.Apply"/> changed (for logs and result metadata).</summary>
public readonly record struct PostprocessingSummary(int FilledPixels, int DroppedComponents, int DroppedPixels);

/// <summary>
/// The clean-up the SpineSegDiff paper applies to a thresholded label map (0 background, 1 canal, 2 vertebra,
/// 3 disc; row-major): per foreground class, fill holes, then drop small connected components.
/// <para>
/// Order: every class's holes are filled first, then every class's small components are dropped. Filling first
/// makes the size threshold judge a structure by its solid area, so a vertebra segmented as a ring is not removed
/// for being thin. Running each step over all classes before the next step makes the result independent of the
/// class order: a fill only ever turns background enclosed by one class into that class, and a drop only turns
/// pixels of its own class into background. A consequence worth knowing: a hole that holds a small island of
/// another class stays open (the island blocks the fill) and becomes background when the island is dropped;
/// a fragment inside another structure is not evidence of what the hole should be.
/// </para>
/// Connectivity follows the usual foreground/background pairing so the two never cross each other: structures are
/// 8-connected, holes (background) 4-connected; a hole that leaks through a diagonal gap is still a hole.
/// </summary>
public static class LabelPostprocessor
{
    /// <summary>Components smaller than this many pixels (1 mm² each on the model grid) are dropped.</summary>
    public const int DefaultMinComponentPixels = 64;

    /// <summary>Fills holes, then drops components smaller than <paramref name="minComponentPixels"/>, for classes 1..3 in place.</summary>
    public static PostprocessingSummary Apply(Span<byte> labels, int width, int height, int minComponentPixels = DefaultMinComponentPixels)
    {
        CheckLabels(labels, width, height);
        ArgumentOutOfRangeException.ThrowIfNegative(minComponentPixels);
        var filled = 0;
        for (var label = (byte)1; label <= LabelClasses.ForegroundCount; label++)
        {
            filled += FillHoles(labels, width, height, label);
        }
        int droppedComponents = 0, droppedPixels = 0;
        for (var label = (byte)1; label <= LabelClasses.ForegroundCount; label++)
        {
            var (components, pixels) = DropSmallComponents(labels, width, height, label, minComponentPixels);
            droppedComponents += components;
            droppedPixels += pixels;
        }
        return new PostprocessingSummary(filled, droppedComponents, droppedPixels);
    }

    /// <summary>
    /// Turns into <paramref name="label"/> every 4-connected region of the other pixels that does not touch the
    /// image border and holds background only; returns the number of pixels filled. A region holding another
    /// class is left alone: it is a neighbouring structure (or an enclosed one), not a gap in this one.
    /// </summary>
    public static int FillHoles(Span<byte> labels, int width, int height, byte label)
    {
        CheckLabels(labels, width, height);
        CheckForeground(label);
        var outside = new bool[labels.Length];
        for (var p = 0; p < labels.Length; p++)
        {
            outside[p] = labels[p] != label;
        }
        var regions = ConnectedComponents.Label(outside, width, height, Connectivity.Four);
        var fill = new bool[regions.Count + 1];
        foreach (var region in regions.Components)
        {
            fill[region.Id] = !region.Bounds.TouchesBorder(width, height);
        }
        var ids = regions.Ids;
        for (var p = 0; p < labels.Length; p++)
        {
            if (labels[p] != LabelClasses.Background && labels[p] != label)
            {
                fill[ids[p]] = false;
            }
        }
        var filled = 0;
        for (var p = 0; p < labels.Length; p++)
        {
            if (ids[p] != 0 && fill[ids[p]])
            {
                labels[p] = label;
                filled++;
            }
        }
        return filled;
    }

    /// <summary>
    /// Sets to background every 8-connected component of <paramref name="label"/> with fewer than
    /// <paramref name="minComponentPixels"/> pixels (one of exactly that size stays); returns what was dropped.
    /// </summary>
    public static (int Components, int Pixels) DropSmallComponents(Span<byte> labels, int width, int height, byte label, int minComponentPixels = DefaultMinComponentPixels)
    {
        CheckLabels(labels, width, height);
        CheckForeground(label);
        ArgumentOutOfRangeException.ThrowIfNegative(minComponentPixels);
        var components = ConnectedComponents.LabelValue(labels, label, width, height, Connectivity.Eight);
        var drop = new bool[components.Count + 1];
        int droppedComponents = 0, droppedPixels = 0;
        foreach (var component in components.Components)
        {
            if (component.PixelCount < minComponentPixels)
            {
                drop[component.Id] = true;
                droppedComponents++;
                droppedPixels += component.PixelCount;
            }
        }
        if (droppedComponents > 0)
        {
            var ids = components.Ids;
            for (var p = 0; p < labels.Length; p++)
            {
                if (drop[ids[p]] && ids[p] != 0)
                {
                    labels[p] = LabelClasses.Background;
                }
            }
        }
        return (droppedComponents, droppedPixels);
    }

    private static void CheckLabels(ReadOnlySpan<byte> labels, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        if ((long)width * height != labels.Length)
        {
            throw new ArgumentException($"{labels.Length} labels for {width}x{height}.", nameof(labels));
        }
        // Values above 3 would be silently treated as "another class"; that is a caller passing tissue codes or raw masks.
        var invalid = labels.IndexOfAnyExceptInRange((byte)0, (byte)LabelClasses.ForegroundCount);
        if (invalid >= 0)
        {
            throw new ArgumentException($"Label {labels[invalid]} at pixel {invalid}; labels are 0..3.", nameof(labels));
        }
    }

    private static void CheckForeground(byte label)
    {
        if (label is < 1 or > LabelClasses.ForegroundCount)
        {
            throw new ArgumentOutOfRangeException(nameof(label), label, "Foreground classes are 1..3.");
        }
    }
}
