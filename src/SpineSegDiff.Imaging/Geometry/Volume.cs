namespace SpineSegDiff.Imaging.Geometry;

/// <summary>A voxel array with its patient-space geometry. Voxel (i,j,k) is at <c>i + Size0*(j + Size1*k)</c>.</summary>
public sealed class Volume<T> where T : unmanaged
{
    public Volume(VolumeGeometry geometry, T[] voxels)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(voxels);
        if (voxels.LongLength != geometry.VoxelCount)
        {
            throw new ArgumentException($"Voxel array has {voxels.LongLength} elements, geometry needs {geometry.VoxelCount}.", nameof(voxels));
        }
        Geometry = geometry;
        Voxels = voxels;
    }

    public Volume(VolumeGeometry geometry)
        : this(geometry, new T[checked((int)geometry.VoxelCount)])
    {
    }

    public VolumeGeometry Geometry { get; }

    public T[] Voxels { get; }

    public int Index(int i, int j, int k) => i + Geometry.Size0 * (j + Geometry.Size1 * k);

    public T this[int i, int j, int k]
    {
        get => Voxels[Index(i, j, k)];
        set => Voxels[Index(i, j, k)] = value;
    }

    /// <summary>Same geometry, voxels converted element-wise (e.g. SPIDER labels to project classes).</summary>
    public Volume<TOut> Map<TOut>(Func<T, TOut> convert) where TOut : unmanaged
    {
        ArgumentNullException.ThrowIfNull(convert);
        var output = new TOut[Voxels.Length];
        for (var n = 0; n < output.Length; n++)
        {
            output[n] = convert(Voxels[n]);
        }
        return new Volume<TOut>(Geometry, output);
    }
}
