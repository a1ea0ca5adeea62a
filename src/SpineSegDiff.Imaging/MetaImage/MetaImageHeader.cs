using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Imaging.MetaImage;

/// <summary>The parsed header of a .mha/.mhd file: what the pixels are and where they sit in patient space.</summary>
public sealed record MetaImageHeader(
    VolumeGeometry Geometry,
    MetaElementType ElementType,
    bool Compressed,
    long? CompressedDataSize,
    bool BigEndian,
    string ElementDataFile,
    string? AnatomicalOrientation,
    int Dimensions,
    long HeaderSize)
{
    public bool IsLocal => string.Equals(ElementDataFile, "LOCAL", StringComparison.OrdinalIgnoreCase);
}
