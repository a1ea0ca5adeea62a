using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;

namespace SpineSegDiff.Gateway.Tests.Support;

/// <summary>Small Part 10 files written with our toolkit: a SEG-like object (the exporter's main cargo) and a Secondary Capture.</summary>
internal static class TestDicomFiles
{
    public static string Create(string directory, string name, string sopClassUid = DicomUids.SegmentationStorage)
    {
        Directory.CreateDirectory(directory);
        var dataset = new DicomDataset()
            .SetString(new DicomTag(0x0008, 0x0016), sopClassUid)
            .SetString(new DicomTag(0x0008, 0x0018), DicomUids.Generate())
            .SetString(new DicomTag(0x0008, 0x0060), sopClassUid == DicomUids.SegmentationStorage ? "SEG" : "OT")
            .SetString(new DicomTag(0x0010, 0x0020), "EXPORT-TEST")
            .SetString(new DicomTag(0x0020, 0x000D), DicomUids.Generate())
            .SetString(new DicomTag(0x0020, 0x000E), DicomUids.Generate())
            .SetString(new DicomTag(0x0020, 0x0013), "1");
        var path = Path.Combine(directory, name);
        DicomFile.Create(dataset, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    public static string SopInstanceUidOf(string path) =>
        DicomFile.Open(path).Dataset.GetString(new DicomTag(0x0008, 0x0018))!;
}
