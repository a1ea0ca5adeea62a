using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Imaging.Spider;

/// <summary>
/// SPIDER mask values to project classes. Two numbering conventions occur in the files (vertebrae 1..9 or 17..24,
/// discs 201..209 or 217..224); the class does not depend on which, the spinal level does (so we never derive it).
/// </summary>
public static class SpiderLabels
{
    public const short SpinalCanal = 100;
    public const short FirstDisc = 201;

    public static byte ToClass(short value) => value switch
    {
        0 => LabelClasses.Background,
        SpinalCanal => LabelClasses.SpinalCanal,
        >= 1 and < SpinalCanal => LabelClasses.Vertebra,
        >= FirstDisc and < 300 => LabelClasses.Disc,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "Not a SPIDER label value (0, 1..99, 100, 201..299)."),
    };

    public static bool IsDisc(short value) => value is >= FirstDisc and < 300;

    public static Volume<byte> ToClasses(Volume<short> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var src = labels.Voxels;
        var dst = new byte[src.Length];
        for (var n = 0; n < src.Length; n++)
        {
            dst[n] = ToClass(src[n]);
        }
        return new Volume<byte>(labels.Geometry, dst);
    }
}
