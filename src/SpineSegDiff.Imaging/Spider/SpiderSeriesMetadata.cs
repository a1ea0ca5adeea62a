namespace SpineSegDiff.Imaging.Spider;

/// <summary>
/// The real (anonymised) DICOM header values of one SPIDER series, from overview.csv, used to make synthetic
/// series look like what scanners write. Empty CSV cells are null.
/// </summary>
public sealed record SpiderSeriesMetadata(
    string CaseId,
    string? SeriesDescription,
    string? Manufacturer,
    string? ManufacturerModelName,
    double? MagneticFieldStrength,
    double? EchoTime,
    double? RepetitionTime,
    double? FlipAngle,
    double? EchoTrainLength,
    double? ImagingFrequency,
    double? PixelBandwidth,
    double? SliceThickness,
    double? SpacingBetweenSlices,
    string? MrAcquisitionType,
    string? ScanningSequence,
    string? SequenceName,
    string? BodyPartExamined,
    string? PatientSex,
    string? InPlanePhaseEncodingDirection,
    string? SoftwareVersions);
