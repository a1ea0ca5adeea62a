namespace SpineSegDiff.Imaging.Geometry;

/// <summary>Reorientation of volumes to the RAS+ convention the SpineSegDiff paper's preprocessing uses.</summary>
public static class Reorientation
{
    // RAS+ in LPS coordinates: axis 0 toward the patient's right (-x), axis 1 anterior (-y), axis 2 superior (+z).
    private static readonly Vec3 Right = new(-1, 0, 0);
    private static readonly Vec3 Anterior = new(0, -1, 0);
    private static readonly Vec3 Superior = new(0, 0, 1);

    public static AxisPermutation ToRasPermutation(VolumeGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return AxisPermutation.Toward(geometry.Direction, Right, Anterior, Superior);
    }

    /// <summary>
    /// Volume with axes permuted/flipped so axis 0 points right, 1 anterior, 2 superior (nearest to; oblique
    /// acquisitions keep their obliquity in the direction matrix: no resampling).
    /// </summary>
    public static Volume<T> ToRas<T>(Volume<T> volume) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(volume);
        return ToRasPermutation(volume.Geometry).Apply(volume);
    }
}
