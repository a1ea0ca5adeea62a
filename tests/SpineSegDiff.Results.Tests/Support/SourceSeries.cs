using System.Globalization;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Results.Tests.Support;

/// <summary>A source series on disk with a label map on its grid, as the writer receives them.</summary>
public sealed record SourceSeries(string Name, IReadOnlyList<string> Files, Volume<byte> Labels)
{
    public int Rows => Labels.Geometry.Size1;

    public int Columns => Labels.Geometry.Size0;

    public int Slices => Labels.Geometry.Size2;

    public IReadOnlyList<DicomDataset> Instances() => Files.Select(f => DicomFile.Open(f).Dataset).ToList();

    /// <summary>The same series with every voxel of one label cleared.</summary>
    public Volume<byte> LabelsWithout(byte label) =>
        new(Labels.Geometry, Labels.Voxels.Select(v => v == label ? (byte)0 : v).ToArray());

    public override string ToString() => Name;
}

/// <summary>
/// A small sagittal MR series of any size, built with the toolkit: the SPIDER phantom is always 512 wide, and the
/// bit-packing bug only shows when Rows x Columns is not a multiple of 8. Shapes differ per slice so a frame placed
/// on the wrong slice cannot match; instances are written in reverse so file order is not slice order.
/// </summary>
public static class TinySeriesBuilder
{
    public static SourceSeries Write(string directory, int rows, int columns, int slices)
    {
        Directory.CreateDirectory(directory);
        var rowDirection = new Vec3(0, 1, 0);       // toward posterior
        var columnDirection = new Vec3(0, 0, -1);   // toward inferior
        var normal = rowDirection.Cross(columnDirection);
        const double rowSpacing = 0.8, columnSpacing = 0.7, sliceSpacing = 4.0;
        var origin = new Vec3(-10, -120, 150);
        var name = FormattableString.Invariant($"tiny-{rows}x{columns}x{slices}");
        var plane = rows * columns;
        var labels = new byte[plane * slices];
        var files = new List<string>();
        for (var k = slices - 1; k >= 0; k--)
        {
            var mask = labels.AsSpan(k * plane, plane);
            Draw(mask, rows, columns, k, slices);
            var pixels = new ushort[plane];
            for (var n = 0; n < plane; n++)
            {
                pixels[n] = (ushort)(100 + 300 * mask[n] + (n * 7 + k * 13) % 50);
            }
            var position = origin + (k * sliceSpacing) * normal;
            var ds = new DicomDataset();
            ds.SetString(DicomTags.SpecificCharacterSet, "ISO_IR 100");
            ds.SetString(DicomTags.ImageType, "ORIGINAL", "PRIMARY", "OTHER");
            ds.SetString(DicomTags.SOPClassUID, DicomUids.MRImageStorage);
            ds.SetString(DicomTags.SOPInstanceUID, Uid(name, "instance", k));
            ds.SetDate(DicomTags.StudyDate, new DateOnly(2024, 2, 1));
            ds.SetTime(DicomTags.StudyTime, new TimeOnly(8, 0));
            ds.SetString(DicomTags.AccessionNumber, "ACC42");
            ds.SetString(DicomTags.Modality, "MR");
            ds.SetString(DicomTags.Manufacturer, "Test");
            ds.SetString(DicomTags.ReferringPhysicianName);
            ds.SetString(DicomTags.StudyDescription, "LUMBAR SPINE (TEST)");
            ds.SetString(DicomTags.SeriesDescription, "SAG T2 TEST");
            ds.SetString(DicomTags.PatientName, "TEST^Müller");
            ds.SetString(DicomTags.PatientID, "TINY-1");
            ds.SetString(DicomTags.PatientBirthDate, "19700101");
            ds.SetString(DicomTags.PatientSex, "F");
            ds.SetString(DicomTags.BodyPartExamined, "LSPINE");
            ds.SetString(DicomTags.ScanningSequence, "SE");
            ds.SetString(DicomTags.SequenceVariant, "SK");
            ds.SetString(DicomTags.ScanOptions);
            ds.SetString(DicomTags.MRAcquisitionType, "2D");
            ds.SetDecimalString(DicomTags.SliceThickness, sliceSpacing);
            ds.SetDecimalString(DicomTags.RepetitionTime, 3000);
            ds.SetDecimalString(DicomTags.EchoTime, 100);
            ds.SetIntegerString(DicomTags.EchoTrainLength, 16);
            ds.SetDecimalString(DicomTags.SpacingBetweenSlices, sliceSpacing);
            ds.SetString(DicomTags.PatientPosition, "HFS");
            ds.SetString(DicomTags.StudyInstanceUID, Uid(name, "study", 0));
            ds.SetString(DicomTags.SeriesInstanceUID, Uid(name, "series", 0));
            ds.SetString(DicomTags.StudyID, "7");
            ds.SetIntegerString(DicomTags.SeriesNumber, 3);
            ds.SetIntegerString(DicomTags.InstanceNumber, k + 1);
            ds.SetDecimalString(DicomTags.ImagePositionPatient, position.X, position.Y, position.Z);
            ds.SetDecimalString(DicomTags.ImageOrientationPatient, rowDirection.X, rowDirection.Y, rowDirection.Z, columnDirection.X, columnDirection.Y, columnDirection.Z);
            ds.SetString(DicomTags.FrameOfReferenceUID, Uid(name, "frame", 0));
            ds.SetString(DicomTags.PositionReferenceIndicator);
            ds.SetUInt16(DicomTags.SamplesPerPixel, 1);
            ds.SetString(DicomTags.PhotometricInterpretation, "MONOCHROME2");
            ds.SetUInt16(DicomTags.Rows, (ushort)rows);
            ds.SetUInt16(DicomTags.Columns, (ushort)columns);
            ds.SetDecimalString(DicomTags.PixelSpacing, rowSpacing, columnSpacing);
            ds.SetUInt16(DicomTags.BitsAllocated, 16);
            ds.SetUInt16(DicomTags.BitsStored, 12);
            ds.SetUInt16(DicomTags.HighBit, 11);
            ds.SetUInt16(DicomTags.PixelRepresentation, 0);
            ds.SetValues(DicomTags.PixelData, DicomVR.OW, pixels);
            var path = Path.Combine(directory, FormattableString.Invariant($"IM{slices - k:D4}.dcm"));
            DicomFile.Create(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
            files.Add(path);
        }
        var geometry = new VolumeGeometry(columns, rows, slices, new Vec3(columnSpacing, rowSpacing, sliceSpacing), origin,
            new Direction3(rowDirection, columnDirection, normal));
        return new SourceSeries(name, files, new Volume<byte>(geometry, labels));
    }

    /// <summary>Canal band, vertebra blocks and discs between them, shifted with the slice; the outer slices stay empty.</summary>
    private static void Draw(Span<byte> mask, int rows, int columns, int slice, int slices)
    {
        if (slice == 0 || slice == slices - 1)
        {
            return;
        }
        var shift = slice * 3;
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                byte label = 0;
                var bodyColumn = c >= columns / 5 + shift && c < columns / 2 + shift;
                var period = rows / 5;
                var phase = (r + shift) % period;
                if (bodyColumn)
                {
                    label = phase < period * 3 / 4 ? (byte)2 : (byte)3;
                }
                else if (c >= columns / 2 + shift + 4 && c < columns / 2 + shift + 4 + columns / 10 && slice < slices - 2)
                {
                    label = 1;
                }
                mask[r * columns + c] = label;
            }
        }
    }

    private static string Uid(string name, string part, int index) =>
        "2.25." + new System.Numerics.BigInteger(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{name}/{part}/{index.ToString(CultureInfo.InvariantCulture)}")).AsSpan(0, 15),
            isUnsigned: true).ToString(CultureInfo.InvariantCulture);
}
