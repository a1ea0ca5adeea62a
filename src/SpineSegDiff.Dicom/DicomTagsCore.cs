namespace SpineSegDiff.Dicom;

/// <summary>
/// The few tags the encoders themselves depend on. Kept apart from the generated <c>DicomTags</c> so the codec
/// does not depend on the dictionary generator's output.
/// </summary>
internal static class DicomTagsCore
{
    public static readonly DicomTag SpecificCharacterSet = new(0x0008, 0x0005);
    public static readonly DicomTag PixelData = new(0x7FE0, 0x0010);
    public static readonly DicomTag FileMetaInformationGroupLength = new(0x0002, 0x0000);
    public static readonly DicomTag TransferSyntaxUid = new(0x0002, 0x0010);
}
