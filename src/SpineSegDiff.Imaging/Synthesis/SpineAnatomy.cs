using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Imaging.Spider;

namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>
/// One SPIDER case prepared for rendering: the mask reoriented to RAS+, its sagittal slices in canonical
/// orientation (rows toward inferior, columns toward posterior) as tissue codes, plus what the renderer needs to
/// place background tissue (the spine's anterior and posterior outline per row) and the discs' Pfirrmann grades.
/// Tissue codes: 0 background, 1 canal, 2 vertebra, <see cref="DiscBase"/> + n for the n-th disc from the bottom.
/// Immutable once built.
/// </summary>
public sealed class SpineAnatomy
{
    /// <summary>Disc tissue codes start above this: code - DiscBase = the disc rank from the bottom (1 = lowest disc, code 17).</summary>
    public const byte DiscBase = 16;

    /// <summary>Grade assumed for discs the gradings file does not list.</summary>
    public const int DefaultPfirrmann = 2;

    private readonly byte[][] _slices;
    private readonly float[][] _anterior;
    private readonly float[][] _posterior;
    private readonly int[] _pfirrmann;
    private readonly (double Row, double Column)[] _centres;

    private SpineAnatomy(
        SpiderCase spiderCase,
        VolumeGeometry rasGeometry,
        int firstSlice,
        byte[][] slices,
        float[][] anterior,
        float[][] posterior,
        int spineCentreSlice,
        int[] pfirrmann,
        (double Row, double Column)[] centres)
    {
        _centres = centres;
        Case = spiderCase;
        RasGeometry = rasGeometry;
        FirstSlice = firstSlice;
        _slices = slices;
        _anterior = anterior;
        _posterior = posterior;
        SpineCentreSlice = spineCentreSlice;
        _pfirrmann = pfirrmann;
    }

    public SpiderCase Case { get; }

    /// <summary>Geometry of the whole mask after RAS+ reorientation (axis 0 = right, 1 = anterior, 2 = superior).</summary>
    public VolumeGeometry RasGeometry { get; }

    /// <summary>RAS axis-0 index of the first slice held (a training slab holds only slices near the spine's centre).</summary>
    public int FirstSlice { get; }

    public int SliceCount => _slices.Length;

    /// <summary>RAS axis-0 index of the sagittal slice nearest the spinal canal's centroid (the mid-sagittal plane).</summary>
    public int SpineCentreSlice { get; }

    /// <summary>Canonical slice rows (superior to inferior) = RAS axis 2 size.</summary>
    public int Rows => RasGeometry.Size2;

    /// <summary>Canonical slice columns (anterior to posterior) = RAS axis 1 size.</summary>
    public int Columns => RasGeometry.Size1;

    public double RowSpacing => RasGeometry.Spacing.Z;

    public double ColumnSpacing => RasGeometry.Spacing.Y;

    /// <summary>Millimetres between sagittal slices.</summary>
    public double SliceSpacing => RasGeometry.Spacing.X;

    public int DiscCount => _pfirrmann.Length - 1;

    /// <summary>Tissue codes of a canonical slice (row-major, Rows x Columns), by RAS axis-0 index.</summary>
    public ReadOnlySpan<byte> Slice(int rasIndex) => _slices[SliceOffset(rasIndex)];

    /// <summary>Per canonical row: the most anterior spine column (vertebral bodies, discs), smoothed and gap-filled.</summary>
    public ReadOnlySpan<float> AnteriorOutline(int rasIndex) => _anterior[SliceOffset(rasIndex)];

    /// <summary>Per canonical row: the most posterior spine column (posterior elements, canal).</summary>
    public ReadOnlySpan<float> PosteriorOutline(int rasIndex) => _posterior[SliceOffset(rasIndex)];

    /// <summary>Pfirrmann grade of the disc with the given rank from the bottom (1-based).</summary>
    public int Pfirrmann(int discRank) => discRank >= 1 && discRank < _pfirrmann.Length ? _pfirrmann[discRank] : DefaultPfirrmann;

    /// <summary>Centroid (canonical row, column; pixels) of the labelled structures in a slice; the grid centre when empty.</summary>
    public (double Row, double Column) SpineCentre(int rasIndex) => _centres[SliceOffset(rasIndex)];

    /// <summary>Project class of a tissue code.</summary>
    public static byte ClassOf(byte tissue) => tissue >= DiscBase ? LabelClasses.Disc : tissue;

    /// <summary>Project classes of one slice.</summary>
    public byte[] ClassSlice(int rasIndex)
    {
        var tissue = Slice(rasIndex);
        var classes = new byte[tissue.Length];
        for (var n = 0; n < classes.Length; n++)
        {
            classes[n] = ClassOf(tissue[n]);
        }
        return classes;
    }

    /// <param name="slabHalfWidthMm">Keep only slices within this distance of the spine centre (null: all slices).</param>
    public static SpineAnatomy Load(SpiderCase spiderCase, SpiderCatalog? catalog, double? slabHalfWidthMm = null)
    {
        ArgumentNullException.ThrowIfNull(spiderCase);
        var mask = MetaImageReader.Read<short>(spiderCase.MaskPath);
        var tissue = ToTissueCodes(mask, out var discCount);
        var permutation = Reorientation.ToRasPermutation(tissue.Geometry);
        var g = permutation.Apply(tissue.Geometry);
        var centre = CanalCentreSlice(tissue, permutation);
        int first = 0, last = g.Size0 - 1;
        if (slabHalfWidthMm is { } half)
        {
            var slices = Math.Max(1, (int)Math.Ceiling(half / g.Spacing.X));
            first = Math.Max(0, centre - slices);
            last = Math.Min(g.Size0 - 1, centre + slices);
        }
        var count = last - first + 1;
        var canonical = new byte[count][];
        var anterior = new float[count][];
        var posterior = new float[count][];
        var centres = new (double, double)[count];
        for (var s = 0; s < count; s++)
        {
            canonical[s] = SagittalSlicer.Extract(tissue.Voxels, SagittalSlicer.Map(tissue.Geometry, permutation, first + s));
            (anterior[s], posterior[s]) = Outlines(canonical[s], g.Size2, g.Size1, g.Spacing.Z);
            centres[s] = Centroid(canonical[s], g.Size2, g.Size1);
        }
        var grades = new int[discCount + 1];
        for (var d = 1; d <= discCount; d++)
        {
            grades[d] = catalog?.PfirrmannGrade(spiderCase.Patient, d) ?? DefaultPfirrmann;
        }
        return new SpineAnatomy(spiderCase, g, first, canonical, anterior, posterior, centre, grades, centres);
    }

    private int SliceOffset(int rasIndex)
    {
        var offset = rasIndex - FirstSlice;
        if ((uint)offset >= (uint)_slices.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(rasIndex), rasIndex, $"Slices {FirstSlice}..{FirstSlice + _slices.Length - 1} are loaded.");
        }
        return offset;
    }

    /// <summary>Maps SPIDER values to tissue codes, ranking discs from the bottom by their mean superior coordinate.</summary>
    private static Volume<byte> ToTissueCodes(Volume<short> mask, out int discCount)
    {
        var g = mask.Geometry;
        var voxels = mask.Voxels;
        const int Labels = 300;
        var sumI = new double[Labels];
        var sumJ = new double[Labels];
        var sumK = new double[Labels];
        var counts = new long[Labels];
        var n = 0;
        for (var k = 0; k < g.Size2; k++)
        {
            for (var j = 0; j < g.Size1; j++)
            {
                for (var i = 0; i < g.Size0; i++, n++)
                {
                    var v = voxels[n];
                    if (v is < 0 or >= Labels)
                    {
                        SpiderLabels.ToClass(v); // throws with the offending value
                    }
                    if (SpiderLabels.IsDisc(v))
                    {
                        sumI[v] += i;
                        sumJ[v] += j;
                        sumK[v] += k;
                        counts[v]++;
                    }
                }
            }
        }
        // Position is linear in the index, so the patient z of the mean index is the mean patient z.
        var discs = new List<(short Label, double Z)>();
        for (short v = SpiderLabels.FirstDisc; v < Labels; v++)
        {
            if (counts[v] > 0)
            {
                discs.Add((v, g.IndexToPatient(sumI[v] / counts[v], sumJ[v] / counts[v], sumK[v] / counts[v]).Z));
            }
        }
        discs.Sort((a, b) => a.Z.CompareTo(b.Z));
        if (discs.Count > 255 - DiscBase)
        {
            throw new InvalidDataException($"{discs.Count} discs in one mask.");
        }
        var lookup = new byte[Labels];
        for (short v = 0; v < Labels; v++)
        {
            lookup[v] = v is > SpiderLabels.SpinalCanal and < SpiderLabels.FirstDisc ? (byte)0 : SpiderLabels.ToClass(v);
        }
        for (var d = 0; d < discs.Count; d++)
        {
            lookup[discs[d].Label] = (byte)(DiscBase + d + 1);
        }
        discCount = discs.Count;
        var output = new byte[voxels.Length];
        for (var p = 0; p < voxels.Length; p++)
        {
            var v = voxels[p];
            if (v is > SpiderLabels.SpinalCanal and < SpiderLabels.FirstDisc)
            {
                SpiderLabels.ToClass(v); // throws: not a SPIDER label
            }
            output[p] = lookup[v];
        }
        return new Volume<byte>(g, output);
    }

    /// <summary>RAS axis-0 index nearest the canal's centroid (all labels when there is no canal; the middle when empty).</summary>
    private static int CanalCentreSlice(Volume<byte> tissue, AxisPermutation toRas)
    {
        var g = tissue.Geometry;
        var sagittal = toRas.SourceAxis(0);
        var size = g.Size(sagittal);
        var canal = new long[size];
        var any = new long[size];
        var voxels = tissue.Voxels;
        var n = 0;
        for (var k = 0; k < g.Size2; k++)
        {
            for (var j = 0; j < g.Size1; j++)
            {
                for (var i = 0; i < g.Size0; i++, n++)
                {
                    var t = voxels[n];
                    if (t == 0)
                    {
                        continue;
                    }
                    var s = sagittal == 0 ? i : sagittal == 1 ? j : k;
                    any[s]++;
                    if (t == LabelClasses.SpinalCanal)
                    {
                        canal[s]++;
                    }
                }
            }
        }
        var weights = canal.Any(c => c > 0) ? canal : any;
        double sum = 0, total = 0;
        for (var s = 0; s < size; s++)
        {
            sum += (double)s * weights[s];
            total += weights[s];
        }
        var centre = total > 0 ? (int)Math.Round(sum / total) : (size - 1) / 2;
        return toRas.Flipped(0) ? size - 1 - centre : centre;
    }

    private static (double Row, double Column) Centroid(byte[] slice, int rows, int cols)
    {
        double sr = 0, sc = 0;
        long n = 0;
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                if (slice[r * cols + c] != 0)
                {
                    sr += r;
                    sc += c;
                    n++;
                }
            }
        }
        return n == 0 ? ((rows - 1) / 2.0, (cols - 1) / 2.0) : (sr / n, sc / n);
    }

    private static (float[] Anterior, float[] Posterior) Outlines(byte[] slice, int rows, int cols, double rowSpacing)
    {
        var anterior = new float[rows];
        var posterior = new float[rows];
        var known = new bool[rows];
        for (var r = 0; r < rows; r++)
        {
            int lo = int.MaxValue, hi = -1;
            for (var c = 0; c < cols; c++)
            {
                if (slice[r * cols + c] != 0)
                {
                    lo = Math.Min(lo, c);
                    hi = c;
                }
            }
            if (hi >= 0)
            {
                anterior[r] = lo;
                posterior[r] = hi;
                known[r] = true;
            }
        }
        FillGaps(anterior, known, cols * 0.4f);
        FillGaps(posterior, known, cols * 0.6f);
        // Outlines jump between vertebrae and discs; the body wall does not. Smooth over ~15 mm.
        var radius = Math.Max(1, (int)Math.Round(15 / rowSpacing));
        return (BoxSmooth(anterior, radius), BoxSmooth(posterior, radius));
    }

    private static void FillGaps(float[] values, bool[] known, float fallback)
    {
        var last = -1;
        for (var r = 0; r < values.Length; r++)
        {
            if (!known[r])
            {
                continue;
            }
            if (last < 0)
            {
                for (var q = 0; q < r; q++)
                {
                    values[q] = values[r];
                }
            }
            else
            {
                for (var q = last + 1; q < r; q++)
                {
                    values[q] = values[last] + (values[r] - values[last]) * (q - last) / (r - last);
                }
            }
            last = r;
        }
        if (last < 0)
        {
            Array.Fill(values, fallback);
            return;
        }
        for (var q = last + 1; q < values.Length; q++)
        {
            values[q] = values[last];
        }
    }

    private static float[] BoxSmooth(float[] values, int radius)
    {
        var output = new float[values.Length];
        for (var r = 0; r < values.Length; r++)
        {
            double sum = 0;
            var n = 0;
            for (var q = Math.Max(0, r - radius); q <= Math.Min(values.Length - 1, r + radius); q++)
            {
                sum += values[q];
                n++;
            }
            output[r] = (float)(sum / n);
        }
        return output;
    }
}
