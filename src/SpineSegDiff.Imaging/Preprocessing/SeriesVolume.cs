using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>Identity and plane geometry of one source image, enough to map results back onto it and to reference it.</summary>
public sealed record SourceImageReference(
    string SopInstanceUid,
    string? SopClassUid,
    int? InstanceNumber,
    int Rows,
    int Columns,
    double RowSpacing,
    double ColumnSpacing,
    Vec3 ImagePositionPatient,
    Vec3 RowDirection,
    Vec3 ColumnDirection)
{
    /// <summary>Patient position of pixel (row, column) centre.</summary>
    public Vec3 PixelToPatient(double row, double column) =>
        ImagePositionPatient + (column * ColumnSpacing) * RowDirection + (row * RowSpacing) * ColumnDirection;
}

/// <summary>
/// A single-frame image series as a volume: axis 0 = column index (DICOM row direction), axis 1 = row index, axis 2 =
/// the instances sorted along the slice normal (row x column direction), as ITK and every DICOM-to-volume
/// converter lay it out. Voxels are modality values (rescale applied).
/// </summary>
public sealed class SeriesVolume
{
    // Direction cosines in headers carry ~6 significant digits; positions ~0.01 mm rounding.
    private const double DirectionTolerance = 1e-3;
    private const double RelativeSpacingTolerance = 0.02;
    private const double AbsoluteSpacingTolerance = 0.05;

    private SeriesVolume(Volume<float> volume, IReadOnlyList<SourceImageReference> slices, string? seriesInstanceUid, string? frameOfReferenceUid)
    {
        Volume = volume;
        Slices = slices;
        SeriesInstanceUid = seriesInstanceUid;
        FrameOfReferenceUid = frameOfReferenceUid;
    }

    public Volume<float> Volume { get; }

    /// <summary>Source image of each axis-2 index.</summary>
    public IReadOnlyList<SourceImageReference> Slices { get; }

    public string? SeriesInstanceUid { get; }

    public string? FrameOfReferenceUid { get; }

    public static SeriesVolume Build(IReadOnlyList<DicomDataset> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        if (instances.Count == 0)
        {
            throw new UnsupportedSeriesException(SeriesRejection.Empty, "The series has no instances.");
        }
        var planes = instances.Select(Plane).ToList();
        var first = planes[0];
        var seriesUid = instances[0].GetString(DicomTags.SeriesInstanceUID);
        var frame = instances[0].GetString(DicomTags.FrameOfReferenceUID);
        foreach (var (p, ds) in planes.Zip(instances))
        {
            if (p.Rows != first.Rows || p.Columns != first.Columns)
            {
                throw new UnsupportedSeriesException(SeriesRejection.InconsistentGeometry, $"Instance {p.SopInstanceUid} is {p.Rows}x{p.Columns}, the series {first.Rows}x{first.Columns}.");
            }
            if ((p.RowDirection - first.RowDirection).Length > DirectionTolerance
                || (p.ColumnDirection - first.ColumnDirection).Length > DirectionTolerance)
            {
                throw new UnsupportedSeriesException(SeriesRejection.InconsistentGeometry, $"Instance {p.SopInstanceUid} has a different ImageOrientationPatient.");
            }
            if (Math.Abs(p.RowSpacing - first.RowSpacing) > 1e-4 || Math.Abs(p.ColumnSpacing - first.ColumnSpacing) > 1e-4)
            {
                throw new UnsupportedSeriesException(SeriesRejection.InconsistentSpacing, $"Instance {p.SopInstanceUid} has a different PixelSpacing.");
            }
            if (ds.GetString(DicomTags.SeriesInstanceUID) != seriesUid || ds.GetString(DicomTags.FrameOfReferenceUID) != frame)
            {
                throw new UnsupportedSeriesException(SeriesRejection.InconsistentGeometry, $"Instance {p.SopInstanceUid} belongs to another series or frame of reference.");
            }
        }
        var rowDir = first.RowDirection;
        var colDir = first.ColumnDirection;
        var normal = rowDir.Cross(colDir);
        var order = Enumerable.Range(0, planes.Count).OrderBy(i => planes[i].ImagePositionPatient.Dot(normal)).ToList();

        var sliceSpacing = SliceSpacing(instances, planes, order, normal);
        var size0 = first.Columns;
        var size1 = first.Rows;
        var plane = size0 * size1;
        var voxels = new float[checked(plane * planes.Count)];
        var slices = new SourceImageReference[planes.Count];
        for (var k = 0; k < order.Count; k++)
        {
            var index = order[k];
            slices[k] = planes[index];
            ReadPixels(instances[index], planes[index], voxels.AsSpan(k * plane, plane));
        }
        var geometry = new VolumeGeometry(
            size0, size1, planes.Count,
            new Vec3(first.ColumnSpacing, first.RowSpacing, sliceSpacing),
            planes[order[0]].ImagePositionPatient,
            new Direction3(rowDir, colDir, normal));
        return new SeriesVolume(new Volume<float>(geometry, voxels), slices, seriesUid, frame);
    }

    private static double SliceSpacing(IReadOnlyList<DicomDataset> instances, List<SourceImageReference> planes, List<int> order, Vec3 normal)
    {
        if (order.Count == 1)
        {
            var ds = instances[0];
            var spacing = TryDecimal(ds, DicomTags.SpacingBetweenSlices) ?? TryDecimal(ds, DicomTags.SliceThickness) ?? 1.0;
            return spacing > 0 ? spacing : 1.0;
        }
        var gaps = new double[order.Count - 1];
        for (var k = 1; k < order.Count; k++)
        {
            var a = planes[order[k - 1]].ImagePositionPatient;
            var b = planes[order[k]].ImagePositionPatient;
            var step = b - a;
            gaps[k - 1] = step.Dot(normal);
            // Positions must move along the normal: a sideways step means a sheared or mixed stack.
            var sideways = (step - gaps[k - 1] * normal).Length;
            if (sideways > Math.Max(AbsoluteSpacingTolerance, RelativeSpacingTolerance * Math.Abs(gaps[k - 1])))
            {
                throw new UnsupportedSeriesException(SeriesRejection.InconsistentGeometry, $"Slice positions are not stacked along the slice normal (offset {sideways:F2} mm).");
            }
        }
        var mean = gaps.Average();
        if (gaps.Min() <= AbsoluteSpacingTolerance)
        {
            throw new UnsupportedSeriesException(SeriesRejection.InconsistentSpacing, "Two instances share one slice position.");
        }
        foreach (var gap in gaps)
        {
            if (Math.Abs(gap - mean) > Math.Max(AbsoluteSpacingTolerance, RelativeSpacingTolerance * mean))
            {
                throw new UnsupportedSeriesException(SeriesRejection.InconsistentSpacing, $"Slice spacing varies ({gaps.Min():F3}..{gaps.Max():F3} mm): missing or extra slices.");
            }
        }
        return mean;
    }

    private static SourceImageReference Plane(DicomDataset ds)
    {
        var uid = ds.GetString(DicomTags.SOPInstanceUID);
        if (string.IsNullOrEmpty(uid))
        {
            throw new UnsupportedSeriesException(SeriesRejection.MissingGeometry, "An instance lacks SOPInstanceUID.");
        }
        var ipp = Decimals(ds, DicomTags.ImagePositionPatient, 3, uid);
        var iop = Decimals(ds, DicomTags.ImageOrientationPatient, 6, uid);
        var spacing = Decimals(ds, DicomTags.PixelSpacing, 2, uid);
        var rows = ds.GetUInt16(DicomTags.Rows) ?? 0;
        var cols = ds.GetUInt16(DicomTags.Columns) ?? 0;
        if (rows == 0 || cols == 0)
        {
            throw new UnsupportedSeriesException(SeriesRejection.MissingGeometry, $"Instance {uid} lacks Rows/Columns.");
        }
        if (!(spacing[0] > 0) || !(spacing[1] > 0))
        {
            throw new UnsupportedSeriesException(SeriesRejection.MissingGeometry, $"Instance {uid} has a non-positive PixelSpacing.");
        }
        var rowDir = new Vec3(iop[0], iop[1], iop[2]);
        var colDir = new Vec3(iop[3], iop[4], iop[5]);
        if (Math.Abs(rowDir.Length - 1) > 0.01 || Math.Abs(colDir.Length - 1) > 0.01 || Math.Abs(rowDir.Dot(colDir)) > 0.01)
        {
            throw new UnsupportedSeriesException(SeriesRejection.MissingGeometry, $"Instance {uid} has invalid ImageOrientationPatient direction cosines.");
        }
        rowDir = rowDir.Normalized();
        // Re-orthogonalise: headers round cosines to a few digits, the volume geometry needs an orthonormal frame.
        colDir = (colDir - rowDir.Dot(colDir) * rowDir).Normalized();
        var number = ds.GetString(DicomTags.InstanceNumber) is { Length: > 0 } n && int.TryParse(n, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : (int?)null;
        return new SourceImageReference(uid, ds.GetString(DicomTags.SOPClassUID), number, rows, cols, spacing[0], spacing[1], new Vec3(ipp[0], ipp[1], ipp[2]), rowDir, colDir);
    }

    private static double[] Decimals(DicomDataset ds, DicomTag tag, int count, string uid)
    {
        double[] values;
        try
        {
            values = ds.GetDecimalStrings(tag);
        }
        catch (FormatException)
        {
            throw new UnsupportedSeriesException(SeriesRejection.MissingGeometry, $"Instance {uid}: {tag} is not numeric.");
        }
        if (values.Length != count || values.Any(v => !double.IsFinite(v)))
        {
            throw new UnsupportedSeriesException(SeriesRejection.MissingGeometry, $"Instance {uid}: {tag} must have {count} values, has {values.Length}.");
        }
        return values;
    }

    private static double? TryDecimal(DicomDataset ds, DicomTag tag)
    {
        try
        {
            var v = ds.GetDecimalStrings(tag);
            return v.Length > 0 && double.IsFinite(v[0]) ? v[0] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static void ReadPixels(DicomDataset ds, SourceImageReference reference, Span<float> output)
    {
        var uid = reference.SopInstanceUid;
        var samples = ds.GetUInt16(DicomTags.SamplesPerPixel) ?? 1;
        var bits = ds.GetUInt16(DicomTags.BitsAllocated) ?? 0;
        var signed = (ds.GetUInt16(DicomTags.PixelRepresentation) ?? 0) == 1;
        var photometric = ds.GetString(DicomTags.PhotometricInterpretation) ?? "MONOCHROME2";
        if (samples != 1 || photometric is not ("MONOCHROME2" or "MONOCHROME1"))
        {
            throw new UnsupportedSeriesException(SeriesRejection.UnsupportedPixelData, $"Instance {uid}: {photometric} with {samples} samples per pixel is not a greyscale image.");
        }
        if ((ds.GetString(DicomTags.NumberOfFrames) is { Length: > 0 } frames) && frames != "1")
        {
            throw new UnsupportedSeriesException(SeriesRejection.UnsupportedPixelData, $"Instance {uid} is multi-frame ({frames} frames).");
        }
        var data = ds.GetBytes(DicomTags.PixelData).Span;
        var count = output.Length;
        var needed = count * (bits / 8);
        if (bits is not (8 or 16) || data.Length < needed)
        {
            throw new UnsupportedSeriesException(SeriesRejection.UnsupportedPixelData, $"Instance {uid}: {bits}-bit pixel data of {data.Length} bytes for {reference.Rows}x{reference.Columns} (encapsulated or unsupported).");
        }
        var slope = TryDecimal(ds, DicomTags.RescaleSlope) ?? 1.0;
        var intercept = TryDecimal(ds, DicomTags.RescaleIntercept) ?? 0.0;
        if (bits == 8)
        {
            for (var n = 0; n < count; n++)
            {
                output[n] = (float)(slope * (signed ? (sbyte)data[n] : data[n]) + intercept);
            }
        }
        else
        {
            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(data[..needed]);
            for (var n = 0; n < count; n++)
            {
                var raw = BitConverter.IsLittleEndian ? words[n] : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(words[n]);
                output[n] = (float)(slope * (signed ? (short)raw : raw) + intercept);
            }
        }
        if (photometric == "MONOCHROME1")
        {
            // Inverted greyscale: flip so that bright means high signal, as the model expects.
            var max = float.MinValue;
            foreach (var v in output)
            {
                max = Math.Max(max, v);
            }
            for (var n = 0; n < count; n++)
            {
                output[n] = max - output[n];
            }
        }
    }
}
