using SpineSegDiff.Dicom;

namespace SpineSegDiff.Dicom.Tests.Part10;

/// <summary>Datasets built in code that exercise every VR family the codec handles.</summary>
internal static class TestDatasets
{
    public const string StudyUid = "1.2.826.0.1.3680043.10.1234.1";
    public const string SeriesUid = "1.2.826.0.1.3680043.10.1234.1.2";
    public const string InstanceUid = "1.2.826.0.1.3680043.10.1234.1.2.3";

    /// <summary>A sagittal MR image with the attributes the MR Image IOD requires (PS3.3 A.4).</summary>
    public static DicomDataset MrImage(int rows = 32, int columns = 24, string characterSet = "ISO_IR 192", string patientName = "Müller^Zoë")
    {
        var ds = new DicomDataset();
        ds.SetString(DicomTags.SpecificCharacterSet, characterSet);
        ds.SetString(DicomTags.ImageType, "ORIGINAL", "PRIMARY", "OTHER");
        ds.SetString(DicomTags.SOPClassUID, DicomUids.MRImageStorage);
        ds.SetString(DicomTags.SOPInstanceUID, InstanceUid);
        ds.SetDate(DicomTags.StudyDate, new DateOnly(2026, 11, 22));
        ds.SetTime(DicomTags.StudyTime, new TimeOnly(10, 15, 30, 250));
        ds.SetString(DicomTags.AccessionNumber, "A12345");
        ds.SetString(DicomTags.Modality, "MR");
        ds.SetString(DicomTags.Manufacturer, "SpineSegDiff");
        ds.SetString(DicomTags.ReferringPhysicianName, string.Empty);
        ds.SetString(DicomTags.SeriesDescription, "SAG T2 TSE");
        ds.SetString(DicomTags.PatientName, patientName);
        ds.SetString(DicomTags.PatientID, "PAT-001");
        ds.SetDate(DicomTags.PatientBirthDate, new DateOnly(1970, 1, 2));
        ds.SetString(DicomTags.PatientSex, "F");
        ds.SetString(DicomTags.BodyPartExamined, "LSPINE");
        ds.SetString(DicomTags.PatientPosition, "HFS");
        ds.SetString(DicomTags.ScanningSequence, "SE");
        ds.SetString(DicomTags.SequenceVariant, "SK", "SP");
        ds.SetString(DicomTags.ScanOptions, string.Empty);
        ds.SetString(DicomTags.MRAcquisitionType, "2D");
        ds.SetDecimalString(DicomTags.SliceThickness, 4.0);
        ds.SetDecimalString(DicomTags.RepetitionTime, 3000);
        ds.SetDecimalString(DicomTags.EchoTime, 100.5);
        ds.SetIntegerString(DicomTags.EchoTrainLength, 17);
        ds.SetDecimalString(DicomTags.MagneticFieldStrength, 1.5);
        ds.SetString(DicomTags.StudyInstanceUID, StudyUid);
        ds.SetString(DicomTags.SeriesInstanceUID, SeriesUid);
        ds.SetString(DicomTags.StudyID, "1");
        ds.SetIntegerString(DicomTags.SeriesNumber, 3);
        ds.SetIntegerString(DicomTags.InstanceNumber, 7);
        ds.SetString(DicomTags.PatientOrientation, "A", "F");
        ds.SetDecimalString(DicomTags.ImagePositionPatient, -12.5, -120.25, 140.0);
        ds.SetDecimalString(DicomTags.ImageOrientationPatient, 0, 1, 0, 0, 0, -1);
        ds.SetString(DicomTags.FrameOfReferenceUID, StudyUid + ".9");
        ds.SetString(DicomTags.PositionReferenceIndicator, string.Empty);
        ds.SetUInt16(DicomTags.SamplesPerPixel, 1);
        ds.SetString(DicomTags.PhotometricInterpretation, "MONOCHROME2");
        ds.SetUInt16(DicomTags.Rows, (ushort)rows);
        ds.SetUInt16(DicomTags.Columns, (ushort)columns);
        ds.SetDecimalString(DicomTags.PixelSpacing, 0.9375, 0.9375);
        ds.SetUInt16(DicomTags.BitsAllocated, 16);
        ds.SetUInt16(DicomTags.BitsStored, 12);
        ds.SetUInt16(DicomTags.HighBit, 11);
        ds.SetUInt16(DicomTags.PixelRepresentation, 0);
        var referenced = new DicomDataset();
        referenced.SetString(DicomTags.ReferencedSOPClassUID, DicomUids.MRImageStorage);
        referenced.SetString(DicomTags.ReferencedSOPInstanceUID, InstanceUid + ".1");
        ds.SetSequence(DicomTags.ReferencedImageSequence, referenced);
        var pixels = new ushort[rows * columns];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (ushort)((i * 37) % 4096);
        }
        ds.SetValues(DicomTags.PixelData, DicomVR.OW, pixels);
        return ds;
    }

    /// <summary>One element of every VR, nested sequences, private data and encapsulated-looking fragments.</summary>
    public static DicomDataset EveryVR()
    {
        var ds = MrImage(rows: 3, columns: 5); // odd pixel count: 30 bytes, even anyway for 16-bit
        ds.SetString(DicomTags.RetrieveAETitle, "ARCHIVE");
        ds.SetString(DicomTags.PatientAge, "056Y");
        ds.SetTags(DicomTags.FrameIncrementPointer, DicomTags.FrameTime);
        ds.SetDateTime(DicomTags.AcquisitionDateTime, new DateTime(2026, 11, 22, 10, 15, 30, 500));
        ds.SetDouble(DicomTags.RealWorldValueLastValueMapped, 1.5);
        ds.SetSingle(DicomTags.RecommendedDisplayFrameRateInFloat, 2.5f);
        ds.SetString(DicomTags.ImageComments, "first line\r\nsecond line with \\ backslash");
        ds.SetString(DicomTags.InstitutionAddress, "Road 1");
        ds.SetInt32(DicomTags.ReferencePixelX0, -5);
        ds.SetInt16(DicomTags.SmallestImagePixelValue, -3);
        ds.SetString(DicomTags.RetrieveURL, "https://pacs.example/wado");
        ds.SetString(DicomTags.StrainAdditionalInformation, "unlimited characters text");
        ds.SetBytes(new DicomTag(0x0029, 0x0010), DicomVR.LO, "SPINESEG TEST"u8.ToArray());
        ds.SetBytes(new DicomTag(0x0029, 0x1001), DicomVR.OB, new byte[] { 1, 2, 3 });
        ds.SetBytes(new DicomTag(0x0029, 0x1002), DicomVR.UN, new byte[] { 9, 8, 7, 6 });
        ds.SetValues(DicomTags.FloatPixelData, DicomVR.OF, new float[] { 1f, 2f });
        ds.SetValues(DicomTags.DoubleFloatPixelData, DicomVR.OD, new double[] { 3.0 });
        var inner = new DicomDataset();
        inner.SetString(DicomTags.CodeValue, "51282000");
        inner.SetString(DicomTags.CodingSchemeDesignator, "SCT");
        inner.SetString(DicomTags.CodeMeaning, "Vertebra");
        var outer = new DicomDataset();
        outer.SetString(DicomTags.ReferencedSOPInstanceUID, InstanceUid + ".2");
        outer.SetSequence(DicomTags.PurposeOfReferenceCodeSequence, inner);
        ds.SetSequence(DicomTags.SourceImageSequence, outer, new DicomDataset());
        return ds;
    }
}
