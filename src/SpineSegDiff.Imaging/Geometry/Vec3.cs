namespace SpineSegDiff.Imaging.Geometry;

/// <summary>A point or direction in patient coordinates (millimetres, DICOM LPS: +x left, +y posterior, +z superior).</summary>
public readonly record struct Vec3(double X, double Y, double Z)
{
    public static Vec3 Zero => default;

    public double this[int axis] => axis switch
    {
        0 => X,
        1 => Y,
        2 => Z,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "Axis must be 0, 1 or 2."),
    };

    public double Length => Math.Sqrt(Dot(this));

    public static Vec3 operator +(Vec3 a, Vec3 b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);

    public static Vec3 operator -(Vec3 a, Vec3 b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);

    public static Vec3 operator -(Vec3 a) => new(-a.X, -a.Y, -a.Z);

    public static Vec3 operator *(double s, Vec3 a) => new(s * a.X, s * a.Y, s * a.Z);

    public double Dot(Vec3 other) => X * other.X + Y * other.Y + Z * other.Z;

    public Vec3 Cross(Vec3 b) => new(Y * b.Z - Z * b.Y, Z * b.X - X * b.Z, X * b.Y - Y * b.X);

    public Vec3 Normalized()
    {
        var length = Length;
        return length > 0 ? (1.0 / length) * this : throw new InvalidOperationException("Cannot normalise a zero vector.");
    }

    /// <summary>The patient axis (0 = x/LR, 1 = y/AP, 2 = z/SI) this direction is closest to.</summary>
    public int DominantAxis()
    {
        var ax = Math.Abs(X);
        var ay = Math.Abs(Y);
        var az = Math.Abs(Z);
        return ax >= ay && ax >= az ? 0 : ay >= az ? 1 : 2;
    }

    public override string ToString() => FormattableString.Invariant($"({X:G6}, {Y:G6}, {Z:G6})");
}
