namespace SpineSegDiff.Imaging.Geometry;

/// <summary>
/// The direction cosines of a volume: column <c>a</c> is the unit patient-space (LPS) direction in which voxel index
/// <c>a</c> increases. Stored by axis because that is how every consumer uses it (and how MetaImage's
/// TransformMatrix and DICOM's ImageOrientationPatient list it).
/// </summary>
public readonly record struct Direction3(Vec3 Axis0, Vec3 Axis1, Vec3 Axis2)
{
    public static Direction3 Identity => new(new Vec3(1, 0, 0), new Vec3(0, 1, 0), new Vec3(0, 0, 1));

    public Vec3 this[int axis] => axis switch
    {
        0 => Axis0,
        1 => Axis1,
        2 => Axis2,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "Axis must be 0, 1 or 2."),
    };

    public double Determinant => Axis0.Dot(Axis1.Cross(Axis2));

    /// <summary>Direction times a vector of index-space steps (already scaled by spacing).</summary>
    public Vec3 Apply(double a, double b, double c) => new(
        Axis0.X * a + Axis1.X * b + Axis2.X * c,
        Axis0.Y * a + Axis1.Y * b + Axis2.Y * c,
        Axis0.Z * a + Axis1.Z * b + Axis2.Z * c);

    /// <summary>Inverse of <see cref="Apply"/>; exact transpose when orthonormal, general inverse otherwise.</summary>
    public Vec3 Solve(Vec3 p)
    {
        var det = Determinant;
        if (Math.Abs(det) < 1e-12)
        {
            throw new InvalidOperationException("Direction matrix is singular.");
        }
        // Cramer's rule: the axes need not be orthonormal (sheared acquisitions), so no transpose shortcut.
        return new Vec3(
            p.Dot(Axis1.Cross(Axis2)) / det,
            Axis0.Dot(p.Cross(Axis2)) / det,
            Axis0.Dot(Axis1.Cross(p)) / det);
    }

    /// <summary>Largest deviation of the axes from an orthonormal set.</summary>
    public double OrthonormalityError()
    {
        var e = 0.0;
        for (var a = 0; a < 3; a++)
        {
            e = Math.Max(e, Math.Abs(this[a].Length - 1));
            for (var b = a + 1; b < 3; b++)
            {
                e = Math.Max(e, Math.Abs(this[a].Dot(this[b])));
            }
        }
        return e;
    }
}
