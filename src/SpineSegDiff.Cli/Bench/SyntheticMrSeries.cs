using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;

namespace SpineSegDiff.Cli.Bench;

/// <summary>
/// Writes a synthetic sagittal MR series (16-bit MONOCHROME2) for load tests: distinct instances with realistic
/// headers and pixel content that differs per slice, so no layer can cheat by caching.
/// </summary>
internal static class SyntheticMrSeries
{
    public static IReadOnlyList<string> Write(string directory, int count, int rows, int columns, DicomTransferSyntax syntax)
    {
        Directory.CreateDirectory(directory);
        var study = DicomUids.Generate();
        var series = DicomUids.Generate();
        var frame = DicomUids.Generate();
        var files = new List<string>(count);
        var pixels = new ushort[rows * columns];
        for (var i = 0; i < count; i++)
        {
            for (var p = 0; p < pixels.Length; p++)
            {
                var r = p / columns;
                var c = p % columns;
                pixels[p] = (ushort)(((r * 7 + c * 13 + i * 31) ^ (r * c + i)) & 0x0FFF);
            }
            var ds = new DicomDataset();
            ds.SetString(DicomTags.SpecificCharacterSet, "ISO_IR 192");
            ds.SetString(DicomTags.ImageType, "ORIGINAL", "PRIMARY", "OTHER");
            ds.SetString(DicomTags.SOPClassUID, DicomUids.MRImageStorage);
            ds.SetString(DicomTags.SOPInstanceUID, DicomUids.Generate());
            ds.SetDate(DicomTags.StudyDate, new DateOnly(2026, 1, 1));
            ds.SetString(DicomTags.Modality, "MR");
            ds.SetString(DicomTags.SeriesDescription, "SAG T2 TSE");
            ds.SetString(DicomTags.PatientName, "BENCH^LOAD");
            ds.SetString(DicomTags.PatientID, "BENCH-0001");
            ds.SetString(DicomTags.BodyPartExamined, "LSPINE");
            ds.SetString(DicomTags.StudyInstanceUID, study);
            ds.SetString(DicomTags.SeriesInstanceUID, series);
            ds.SetString(DicomTags.FrameOfReferenceUID, frame);
            ds.SetIntegerString(DicomTags.InstanceNumber, i + 1);
            ds.SetDecimalString(DicomTags.ImagePositionPatient, -40.0 + i * 0.5, -120.0, 140.0);
            ds.SetDecimalString(DicomTags.ImageOrientationPatient, 0, 1, 0, 0, 0, -1);
            ds.SetDecimalString(DicomTags.PixelSpacing, 0.9375, 0.9375);
            ds.SetDecimalString(DicomTags.SliceThickness, 4.0);
            ds.SetUInt16(DicomTags.SamplesPerPixel, 1);
            ds.SetString(DicomTags.PhotometricInterpretation, "MONOCHROME2");
            ds.SetUInt16(DicomTags.Rows, (ushort)rows);
            ds.SetUInt16(DicomTags.Columns, (ushort)columns);
            ds.SetUInt16(DicomTags.BitsAllocated, 16);
            ds.SetUInt16(DicomTags.BitsStored, 12);
            ds.SetUInt16(DicomTags.HighBit, 11);
            ds.SetUInt16(DicomTags.PixelRepresentation, 0);
            ds.SetValues(DicomTags.PixelData, DicomVR.OW, pixels);
            // Sequential numbered names: these are our own test files, not names built from UIDs.
            var path = Path.Combine(directory, $"IM{i + 1:D5}.dcm");
            DicomFile.Create(ds, syntax).Save(path);
            files.Add(path);
        }
        return files;
    }
}
