namespace SpineSegDiff.Imaging.Analysis;

/// <summary>Which neighbours join two mask pixels into one component.</summary>
public enum Connectivity
{
    /// <summary>Edge neighbours only (up, down, left, right).</summary>
    Four = 4,

    /// <summary>Edge and corner neighbours.</summary>
    Eight = 8,
}

/// <summary>Inclusive pixel bounds of a component: rows <see cref="Top"/>..<see cref="Bottom"/>, columns <see cref="Left"/>..<see cref="Right"/>.</summary>
public readonly record struct BoundingBox(int Top, int Left, int Bottom, int Right)
{
    public int Height => Bottom - Top + 1;

    public int Width => Right - Left + 1;

    public bool TouchesBorder(int width, int height) => Top == 0 || Left == 0 || Bottom == height - 1 || Right == width - 1;
}

/// <summary>One connected component: its id in <see cref="ComponentLabelling.Ids"/>, size, centroid (pixel centres at integer indices) and bounds.</summary>
public readonly record struct Component(int Id, int PixelCount, double CentroidRow, double CentroidColumn, BoundingBox Bounds);

/// <summary>
/// Result of <see cref="ConnectedComponents.Label(ReadOnlySpan{byte}, int, int, Connectivity)"/>: per-pixel ids
/// (row-major, 0 outside the mask, 1..<see cref="Count"/> inside) and one <see cref="Component"/> per id.
/// Ids follow the row-major order of each component's first pixel, so the numbering is reproducible.
/// </summary>
public sealed class ComponentLabelling
{
    internal ComponentLabelling(int width, int height, int[] ids, Component[] components)
    {
        Width = width;
        Height = height;
        Ids = ids;
        Components = components;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Component id per pixel, row-major (index = row * Width + column); 0 = not in the mask.</summary>
    public int[] Ids { get; }

    /// <summary>Components in id order: <c>Components[id - 1].Id == id</c>.</summary>
    public IReadOnlyList<Component> Components { get; }

    public int Count => Components.Count;

    /// <summary>The component with the given id (1-based).</summary>
    public Component this[int id] =>
        id >= 1 && id <= Components.Count ? Components[id - 1] : throw new ArgumentOutOfRangeException(nameof(id), id, $"Ids are 1..{Components.Count}.");

    /// <summary>Pixel counts indexed by id; entry 0 is the number of pixels outside the mask.</summary>
    public int[] PixelCounts()
    {
        var counts = new int[Components.Count + 1];
        counts[0] = Ids.Length;
        foreach (var component in Components)
        {
            counts[component.Id] = component.PixelCount;
            counts[0] -= component.PixelCount;
        }
        return counts;
    }
}

/// <summary>
/// Connected-component labelling of 2D binary masks. Breadth-first flood fill with an explicit queue: label maps
/// are up to 2048x2048 and a single component can cover all of it, far beyond what recursion's stack allows.
/// </summary>
public static class ConnectedComponents
{
    /// <summary>Labels the non-zero pixels of a row-major <paramref name="width"/> x <paramref name="height"/> mask.</summary>
    public static ComponentLabelling Label(ReadOnlySpan<byte> mask, int width, int height, Connectivity connectivity = Connectivity.Eight)
    {
        CheckSize(mask.Length, width, height, nameof(mask));
        var inMask = new bool[mask.Length];
        for (var p = 0; p < mask.Length; p++)
        {
            inMask[p] = mask[p] != 0;
        }
        return Label(inMask, width, height, connectivity);
    }

    /// <summary>Labels the pixels of <paramref name="labels"/> equal to <paramref name="value"/> (one class of a label map).</summary>
    public static ComponentLabelling LabelValue(ReadOnlySpan<byte> labels, byte value, int width, int height, Connectivity connectivity = Connectivity.Eight)
    {
        CheckSize(labels.Length, width, height, nameof(labels));
        var inMask = new bool[labels.Length];
        for (var p = 0; p < labels.Length; p++)
        {
            inMask[p] = labels[p] == value;
        }
        return Label(inMask, width, height, connectivity);
    }

    /// <summary>Labels the true pixels of a row-major mask.</summary>
    public static ComponentLabelling Label(ReadOnlySpan<bool> mask, int width, int height, Connectivity connectivity = Connectivity.Eight)
    {
        CheckSize(mask.Length, width, height, nameof(mask));
        if (connectivity is not (Connectivity.Four or Connectivity.Eight))
        {
            throw new ArgumentOutOfRangeException(nameof(connectivity), connectivity, "4 or 8.");
        }
        var eight = connectivity == Connectivity.Eight;
        var ids = new int[mask.Length];
        var components = new List<Component>();
        // Every pixel enters the queue at most once (it is labelled when queued), so one mask-sized array suffices.
        var queue = new int[mask.Length];
        for (var seed = 0; seed < mask.Length; seed++)
        {
            if (!mask[seed] || ids[seed] != 0)
            {
                continue;
            }
            var id = components.Count + 1;
            int head = 0, tail = 0;
            queue[tail++] = seed;
            ids[seed] = id;
            long sumRow = 0, sumColumn = 0;
            int top = int.MaxValue, left = int.MaxValue, bottom = -1, right = -1;
            while (head < tail)
            {
                var p = queue[head++];
                var row = p / width;
                var column = p - row * width;
                sumRow += row;
                sumColumn += column;
                top = Math.Min(top, row);
                bottom = Math.Max(bottom, row);
                left = Math.Min(left, column);
                right = Math.Max(right, column);
                var r0 = Math.Max(0, row - 1);
                var r1 = Math.Min(height - 1, row + 1);
                var c0 = Math.Max(0, column - 1);
                var c1 = Math.Min(width - 1, column + 1);
                for (var r = r0; r <= r1; r++)
                {
                    for (var c = c0; c <= c1; c++)
                    {
                        if (!eight && r != row && c != column)
                        {
                            continue; // a corner neighbour
                        }
                        var q = r * width + c;
                        if (mask[q] && ids[q] == 0)
                        {
                            ids[q] = id;
                            queue[tail++] = q;
                        }
                    }
                }
            }
            components.Add(new Component(id, tail, (double)sumRow / tail, (double)sumColumn / tail, new BoundingBox(top, left, bottom, right)));
        }
        return new ComponentLabelling(width, height, ids, [.. components]);
    }

    private static void CheckSize(int length, int width, int height, string parameter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        if ((long)width * height != length)
        {
            throw new ArgumentException($"{length} pixels for {width}x{height}.", parameter);
        }
    }
}
