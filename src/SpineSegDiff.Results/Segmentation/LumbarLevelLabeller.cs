using SpineSegDiff.Imaging;
using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Results.Segmentation;

/// <summary>
/// Splits a class label map into lumbar levels for the optional per-level SEG segments.
/// <para>
/// The rule (docs/results.md): on the covered slices, every 6-connected disc region is placed by its centroid's
/// height (patient +Z, superior). Disc regions of at least a quarter of the largest disc's size are the discs; the
/// lowest is L5-S1, the next L4-L5, up to L1-L2; discs above are "other" (thoracic). Smaller disc fragments take the
/// level of the disc nearest in height. Each vertebra voxel counts the discs below it (the disc planes through their
/// centroids, normal to the local spine axis): none = sacrum ("other"), 1 = L5, ..., 5 = L1, more = thoracic
/// ("other"); above the highest disc, when fewer than five are seen, that makes it the next level up. The spinal
/// canal stays one segment.
/// </para>
/// <para>
/// Counting from the lowest disc assumes the field of view includes the sacrum and the spine has five lumbar
/// vertebrae; with a transitional vertebra or a field of view cut above S1 every level is off by one, which no rule on
/// a lumbar sagittal series can detect. That is why the option is off by default.
/// </para>
/// </summary>
public static class LumbarLevelLabeller
{
    public const byte Canal = 1;
    public const byte OtherVertebrae = 12;
    public const byte OtherDiscs = 13;

    private const double MinimumDiscFraction = 0.25;
    private const string RuleDetail = "level counted up from the lowest disc (L5-S1); see docs/results.md";

    private static readonly SrgbColor[] VertebraColors = [new(0, 255, 0), new(0, 170, 60), new(120, 255, 120), new(0, 200, 0), new(60, 140, 60)];
    private static readonly SrgbColor[] DiscColors = [new(255, 0, 0), new(255, 120, 0), new(200, 0, 80), new(255, 90, 90), new(170, 0, 0)];

    /// <summary>
    /// The 13 segments in fixed order: 1 spinal canal, 2..6 L1..L5, 7..11 L1-L2..L5-S1, 12 other vertebrae, 13 other
    /// discs. <see cref="SpineSegment.Label"/> is the value in the map <see cref="Assign"/> returns.
    /// </summary>
    public static IReadOnlyList<SpineSegment> Segments { get; } = BuildSegments();

    /// <summary>Level of vertebra segment number (2..6 → 1..5) or disc segment (7..11 → upper level 1..5).</summary>
    public static string LevelName(byte segment) => segment switch
    {
        Canal => "spinal canal",
        >= 2 and <= 6 => $"L{segment - 1}",
        >= 7 and <= 10 => $"L{segment - 6}-L{segment - 5}",
        11 => "L5-S1",
        OtherVertebrae => "other vertebrae",
        OtherDiscs => "other discs",
        _ => throw new ArgumentOutOfRangeException(nameof(segment), segment, "Segments are 1..13."),
    };

    /// <summary>The segment map (values of <see cref="Segments"/>' labels, 0 background) of <paramref name="labels"/> on <paramref name="slices"/>.</summary>
    public static byte[] Assign(Volume<byte> labels, IReadOnlyList<int> slices)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(slices);
        var g = labels.Geometry;
        var plane = g.Size0 * g.Size1;
        var map = new byte[labels.Voxels.Length];
        var covered = new bool[g.Size2];
        foreach (var slice in slices)
        {
            covered[slice] = true;
        }
        for (var n = 0; n < map.Length; n++)
        {
            map[n] = covered[n / plane] && labels.Voxels[n] == LabelClasses.SpinalCanal ? Canal : (byte)0;
        }

        var discs = Regions(labels, covered, LabelClasses.Disc);
        var largest = discs.Count == 0 ? 0 : discs.Max(d => d.Voxels.Count);
        var main = discs.Where(d => d.Voxels.Count >= MinimumDiscFraction * largest).OrderBy(d => d.Centroid.Z).ToList();
        var mainHeights = main.Select(d => d.Centroid.Z).ToArray();
        foreach (var disc in discs)
        {
            // Rank from the bottom of the main disc nearest in height (a fragment joins its neighbour's level).
            var rank = Array.IndexOf(mainHeights, mainHeights.MinBy(h => Math.Abs(h - disc.Centroid.Z)));
            Paint(map, disc, rank < 5 ? (byte)(11 - rank) : OtherDiscs);
        }

        // Vertebrae voxel by voxel: regions merge through facet joints in 3D, so a region is no vertebra. A voxel
        // lies above a disc when it is on the superior side of the disc's plane (through its centroid, normal to the
        // local spine axis between its neighbouring discs), which follows the lordosis better than height alone.
        var planes = DiscPlanes(main);
        for (var n = 0; n < map.Length; n++)
        {
            if (labels.Voxels[n] != LabelClasses.Vertebra || !covered[n / plane])
            {
                continue;
            }
            var p = Position(g, n);
            var below = planes.Count(d => (p - d.Centroid).Dot(d.Normal) > 0);
            // Number of main discs below: 0 = sacrum, 1 = L5 (above L5-S1), ..., 5 = L1, more = thoracic.
            map[n] = below is >= 1 and <= 5 ? (byte)(7 - below) : OtherVertebrae;
        }
        return map;
    }

    /// <summary>Planes through the main discs (ordered bottom to top), normal along the local spine axis, pointing superior.</summary>
    private static List<DiscPlane> DiscPlanes(List<Region> discs)
    {
        var superior = new Vec3(0, 0, 1);
        var planes = new List<DiscPlane>(discs.Count);
        for (var i = 0; i < discs.Count; i++)
        {
            var axis = discs.Count < 2 ? superior : (discs[Math.Min(i + 1, discs.Count - 1)].Centroid - discs[Math.Max(i - 1, 0)].Centroid);
            axis = axis.Length > 0 ? axis.Normalized() : superior;
            planes.Add(new DiscPlane(discs[i].Centroid, axis.Dot(superior) >= 0 ? axis : -axis));
        }
        return planes;
    }

    private static Vec3 Position(VolumeGeometry g, int n)
    {
        var plane = g.Size0 * g.Size1;
        return g.Origin + g.Direction.Apply(n % g.Size0 * g.Spacing.X, n / g.Size0 % g.Size1 * g.Spacing.Y, n / plane * g.Spacing.Z);
    }

    private static void Paint(byte[] map, Region region, byte segment)
    {
        foreach (var n in region.Voxels)
        {
            map[n] = segment;
        }
    }

    private sealed record Region(List<int> Voxels, Vec3 Centroid);

    private sealed record DiscPlane(Vec3 Centroid, Vec3 Normal);

    /// <summary>6-connected regions of one class on the covered slices, each with its centroid's patient Z.</summary>
    private static List<Region> Regions(Volume<byte> labels, bool[] covered, byte label)
    {
        var g = labels.Geometry;
        var (sx, sy, plane) = (g.Size0, g.Size1, g.Size0 * g.Size1);
        var seen = new bool[labels.Voxels.Length];
        var regions = new List<Region>();
        var queue = new Queue<int>();
        for (var start = 0; start < labels.Voxels.Length; start++)
        {
            if (seen[start] || labels.Voxels[start] != label || !covered[start / plane])
            {
                continue;
            }
            var voxels = new List<int>();
            double sumI = 0, sumJ = 0, sumK = 0;
            seen[start] = true;
            queue.Enqueue(start);
            while (queue.TryDequeue(out var n))
            {
                voxels.Add(n);
                var (i, j, k) = (n % sx, n / sx % sy, n / plane);
                (sumI, sumJ, sumK) = (sumI + i, sumJ + j, sumK + k);
                Visit(i > 0, n - 1);
                Visit(i < sx - 1, n + 1);
                Visit(j > 0, n - sx);
                Visit(j < sy - 1, n + sx);
                Visit(k > 0, n - plane);
                Visit(k < g.Size2 - 1, n + plane);
            }
            var count = voxels.Count;
            var centroid = g.Origin + g.Direction.Apply(sumI / count * g.Spacing.X, sumJ / count * g.Spacing.Y, sumK / count * g.Spacing.Z);
            regions.Add(new Region(voxels, centroid));
        }
        return regions;

        void Visit(bool inside, int m)
        {
            if (inside && !seen[m] && labels.Voxels[m] == label && covered[m / plane])
            {
                seen[m] = true;
                queue.Enqueue(m);
            }
        }
    }

    private static SpineSegment[] BuildSegments()
    {
        var segments = new List<SpineSegment> { SpineSegment.All[0] with { Label = Canal } };
        for (var level = 1; level <= 5; level++)
        {
            segments.Add(new SpineSegment((byte)(1 + level), $"L{level}", SpineCodes.LumbarVertebrae[level - 1], VertebraColors[level - 1]) { Detail = RuleDetail });
        }
        for (var level = 1; level <= 5; level++)
        {
            var name = level == 5 ? "L5-S1" : $"L{level}-L{level + 1}";
            segments.Add(new SpineSegment((byte)(6 + level), name, SpineCodes.LumbarDiscs[level - 1], DiscColors[level - 1]) { Detail = RuleDetail });
        }
        segments.Add(new SpineSegment(OtherVertebrae, "Other vertebrae", SpineCodes.Vertebra, new SrgbColor(150, 200, 150)) { Detail = "sacrum and thoracic vertebrae" });
        segments.Add(new SpineSegment(OtherDiscs, "Other intervertebral discs", SpineCodes.IntervertebralDisc, new SrgbColor(200, 150, 150)) { Detail = "discs above L1-L2" });
        return [.. segments];
    }
}
