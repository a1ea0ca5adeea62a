using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Imaging.MetaImage;

/// <summary>
/// Writes 3D MetaImage files the way ITK does (same keys, same order, LPS geometry), so ITK-SNAP, 3D Slicer and
/// SimpleITK read them with the same geometry we meant. ".mhd" writes the data to a sibling ".raw"/".zraw".
/// Output bytes depend only on the volume (fixed number format and compression level), which keeps synthetic
/// data reproducible byte for byte.
/// </summary>
public static class MetaImageWriter
{
    public static void Write<T>(string path, Volume<T> volume, bool compress = true) where T : unmanaged, INumber<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(volume);
        var data = MemoryMarshal.AsBytes(volume.Voxels.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("MetaImageWriter writes little-endian data only.");
        }
        if (compress)
        {
            using var buffer = new MemoryStream();
            using (var zlib = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
            {
                zlib.Write(data);
            }
            data = buffer.ToArray();
        }

        var detached = path.EndsWith(".mhd", StringComparison.OrdinalIgnoreCase);
        var dataFileName = detached ? Path.GetFileNameWithoutExtension(path) + (compress ? ".zraw" : ".raw") : "LOCAL";
        var header = Header(volume.Geometry, MetaElementTypes.Of<T>(), compress ? data.Length : null, dataFileName);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        using (var stream = File.Create(path))
        {
            stream.Write(Encoding.ASCII.GetBytes(header));
            if (!detached)
            {
                stream.Write(data);
            }
        }
        if (detached)
        {
            File.WriteAllBytes(Path.Combine(directory, dataFileName), data);
        }
    }

    internal static string Header(VolumeGeometry g, MetaElementType type, long? compressedSize, string dataFile)
    {
        var d = g.Direction;
        var sb = new StringBuilder();
        sb.Append("ObjectType = Image\n");
        sb.Append("NDims = 3\n");
        sb.Append("BinaryData = True\n");
        sb.Append("BinaryDataByteOrderMSB = False\n");
        sb.Append(compressedSize.HasValue ? "CompressedData = True\n" : "CompressedData = False\n");
        if (compressedSize.HasValue)
        {
            sb.Append(CultureInfo.InvariantCulture, $"CompressedDataSize = {compressedSize.Value}\n");
        }
        sb.Append("TransformMatrix = ").Append(Numbers(d.Axis0.X, d.Axis0.Y, d.Axis0.Z, d.Axis1.X, d.Axis1.Y, d.Axis1.Z, d.Axis2.X, d.Axis2.Y, d.Axis2.Z)).Append('\n');
        sb.Append("Offset = ").Append(Numbers(g.Origin.X, g.Origin.Y, g.Origin.Z)).Append('\n');
        sb.Append("CenterOfRotation = 0 0 0\n");
        sb.Append("AnatomicalOrientation = ").Append(g.ItkOrientationCode()).Append('\n');
        sb.Append("ElementSpacing = ").Append(Numbers(g.Spacing.X, g.Spacing.Y, g.Spacing.Z)).Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"DimSize = {g.Size0} {g.Size1} {g.Size2}\n");
        sb.Append("ElementType = ").Append(MetaElementTypes.Name(type)).Append('\n');
        sb.Append("ElementDataFile = ").Append(dataFile).Append('\n');
        return sb.ToString();
    }

    private static string Numbers(params double[] values) =>
        string.Join(' ', values.Select(v => (v == 0 ? 0.0 : v).ToString("R", CultureInfo.InvariantCulture)));
}
