namespace SpineSegDiff.Imaging.Geometry;

/// <summary>
/// A lossless reorientation: output axis <c>a</c> reads source axis <c>SourceAxis(a)</c>, reversed when <c>Flipped(a)</c>.
/// Only permutations and flips, never interpolation, so labels and the source pixel grid survive exactly.
/// </summary>
public sealed record AxisPermutation
{
    private readonly int[] _source;
    private readonly bool[] _flip;

    public AxisPermutation(int source0, int source1, int source2, bool flip0, bool flip1, bool flip2)
    {
        _source = [source0, source1, source2];
        _flip = [flip0, flip1, flip2];
        if (source0 == source1 || source0 == source2 || source1 == source2 || _source.Any(s => s is < 0 or > 2))
        {
            throw new ArgumentException($"Not a permutation of axes: {source0},{source1},{source2}.");
        }
    }

    public static AxisPermutation Identity { get; } = new(0, 1, 2, false, false, false);

    public int SourceAxis(int outputAxis) => _source[outputAxis];

    public bool Flipped(int outputAxis) => _flip[outputAxis];

    public bool IsIdentity => _source[0] == 0 && _source[1] == 1 && _source[2] == 2 && !_flip[0] && !_flip[1] && !_flip[2];

    /// <summary>
    /// The permutation that makes output axes point toward the given patient directions (unit LPS vectors), choosing
    /// among the six axis assignments the one best aligned with them (robust for oblique acquisitions near 45°).
    /// </summary>
    public static AxisPermutation Toward(Direction3 source, Vec3 target0, Vec3 target1, Vec3 target2)
    {
        ReadOnlySpan<Vec3> targets = [target0, target1, target2];
        int[][] candidates = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        int[]? best = null;
        var bestScore = double.NegativeInfinity;
        foreach (var p in candidates)
        {
            var score = 0.0;
            for (var a = 0; a < 3; a++)
            {
                score += Math.Abs(source[p[a]].Dot(targets[a]));
            }
            if (score > bestScore + 1e-9)
            {
                bestScore = score;
                best = p;
            }
        }
        var b = best!;
        return new AxisPermutation(
            b[0], b[1], b[2],
            source[b[0]].Dot(targets[0]) < 0,
            source[b[1]].Dot(targets[1]) < 0,
            source[b[2]].Dot(targets[2]) < 0);
    }

    /// <summary>Source voxel index of an output voxel index.</summary>
    public (int I, int J, int K) ToSourceIndex(VolumeGeometry source, int i, int j, int k)
    {
        Span<int> src = stackalloc int[3];
        Span<int> output = [i, j, k];
        for (var a = 0; a < 3; a++)
        {
            var axis = _source[a];
            src[axis] = _flip[a] ? source.Size(axis) - 1 - output[a] : output[a];
        }
        return (src[0], src[1], src[2]);
    }

    /// <summary>Output voxel index of a source voxel index (inverse of <see cref="ToSourceIndex"/>).</summary>
    public (int I, int J, int K) FromSourceIndex(VolumeGeometry source, int i, int j, int k)
    {
        Span<int> src = [i, j, k];
        Span<int> output = stackalloc int[3];
        for (var a = 0; a < 3; a++)
        {
            var axis = _source[a];
            output[a] = _flip[a] ? source.Size(axis) - 1 - src[axis] : src[axis];
        }
        return (output[0], output[1], output[2]);
    }

    public VolumeGeometry Apply(VolumeGeometry source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var (oi, oj, ok) = ToSourceIndex(source, 0, 0, 0);
        var origin = source.IndexToPatient(oi, oj, ok);
        Span<Vec3> dirs = stackalloc Vec3[3];
        Span<double> spacing = stackalloc double[3];
        for (var a = 0; a < 3; a++)
        {
            var axis = _source[a];
            dirs[a] = _flip[a] ? -source.Direction[axis] : source.Direction[axis];
            spacing[a] = source.Spacing[axis];
        }
        return new VolumeGeometry(
            source.Size(_source[0]), source.Size(_source[1]), source.Size(_source[2]),
            new Vec3(spacing[0], spacing[1], spacing[2]),
            origin,
            new Direction3(dirs[0], dirs[1], dirs[2]));
    }

    /// <summary>
    /// Linear offsets into the source voxel array: output voxel (i,j,k) is source element
    /// <c>Start + i*Step0 + j*Step1 + k*Step2</c>. Lets callers read single output slices without reorienting everything.
    /// </summary>
    public (long Start, long Step0, long Step1, long Step2) SourceOffsets(VolumeGeometry source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Span<long> strides = [1, source.Size0, (long)source.Size0 * source.Size1];
        var (si, sj, sk) = ToSourceIndex(source, 0, 0, 0);
        return (
            si + strides[1] * sj + strides[2] * sk,
            strides[_source[0]] * (_flip[0] ? -1 : 1),
            strides[_source[1]] * (_flip[1] ? -1 : 1),
            strides[_source[2]] * (_flip[2] ? -1 : 1));
    }

    public Volume<T> Apply<T>(Volume<T> source) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        var sg = source.Geometry;
        var geometry = Apply(sg);
        if (IsIdentity)
        {
            return new Volume<T>(geometry, (T[])source.Voxels.Clone());
        }
        var (start, step0, step1, step2) = SourceOffsets(sg);
        var src = source.Voxels;
        var dst = new T[src.Length];
        var n = 0;
        for (var k = 0; k < geometry.Size2; k++)
        {
            for (var j = 0; j < geometry.Size1; j++)
            {
                var s = start + k * step2 + j * step1;
                for (var i = 0; i < geometry.Size0; i++, s += step0)
                {
                    dst[n++] = src[s];
                }
            }
        }
        return new Volume<T>(geometry, dst);
    }
}
