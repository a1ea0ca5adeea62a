namespace SpineSegDiff.Imaging.Geometry;

/// <summary>
/// Where a voxel grid sits in patient space (DICOM LPS, millimetres): position of voxel (i,j,k) =
/// Origin + Direction * (Spacing ⊙ (i,j,k)). Index i varies fastest in memory.
/// This is exactly the ITK/MetaImage model (Offset, ElementSpacing, TransformMatrix), which is why MetaImage files
/// map onto it without conversion.
/// </summary>
public sealed record VolumeGeometry
{
    public VolumeGeometry(int size0, int size1, int size2, Vec3 spacing, Vec3 origin, Direction3 direction)
    {
        if (size0 <= 0 || size1 <= 0 || size2 <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size0), $"Volume sizes must be positive, got {size0}x{size1}x{size2}.");
        }
        if (!(spacing.X > 0 && spacing.Y > 0 && spacing.Z > 0) || !double.IsFinite(spacing.X + spacing.Y + spacing.Z))
        {
            throw new ArgumentOutOfRangeException(nameof(spacing), $"Spacing must be positive and finite, got {spacing}.");
        }
        if (direction.OrthonormalityError() > 1e-3)
        {
            throw new ArgumentException($"Direction cosines are not orthonormal: {direction}.", nameof(direction));
        }
        Size0 = size0;
        Size1 = size1;
        Size2 = size2;
        Spacing = spacing;
        Origin = origin;
        Direction = direction;
    }

    public int Size0 { get; }

    public int Size1 { get; }

    public int Size2 { get; }

    public Vec3 Spacing { get; }

    public Vec3 Origin { get; }

    public Direction3 Direction { get; }

    public long VoxelCount => (long)Size0 * Size1 * Size2;

    public int Size(int axis) => axis switch
    {
        0 => Size0,
        1 => Size1,
        2 => Size2,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "Axis must be 0, 1 or 2."),
    };

    public Vec3 IndexToPatient(double i, double j, double k) =>
        Origin + Direction.Apply(i * Spacing.X, j * Spacing.Y, k * Spacing.Z);

    /// <summary>Continuous voxel index of a patient-space point (the inverse of <see cref="IndexToPatient"/>).</summary>
    public Vec3 PatientToIndex(Vec3 point)
    {
        var d = Direction.Solve(point - Origin);
        return new Vec3(d.X / Spacing.X, d.Y / Spacing.Y, d.Z / Spacing.Z);
    }

    /// <summary>Patient-space centre of the grid (midpoint between the first and last voxel centres).</summary>
    public Vec3 Center => IndexToPatient((Size0 - 1) / 2.0, (Size1 - 1) / 2.0, (Size2 - 1) / 2.0);

    /// <summary>The index axis whose direction is closest to patient left-right: the axis that stacks sagittal slices.</summary>
    public int SagittalAxis()
    {
        var best = 0;
        for (var a = 1; a < 3; a++)
        {
            if (Math.Abs(Direction[a].X) > Math.Abs(Direction[best].X))
            {
                best = a;
            }
        }
        return best;
    }

    /// <summary>
    /// ITK-style orientation code (ITK's "RAI" names where each axis comes FROM: R = increasing toward left).
    /// This is the convention of the MetaImage AnatomicalOrientation field.
    /// </summary>
    public string ItkOrientationCode() => AnatomicalCode.FromDirection(Direction, AnatomicalCode.Convention.From);

    /// <summary>Orientation code naming where each axis points TO (nibabel/DICOM style; RAS+ = "RAS").</summary>
    public string OrientationCode() => AnatomicalCode.FromDirection(Direction, AnatomicalCode.Convention.To);
}
