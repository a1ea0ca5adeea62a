using SpineSegDiff.Imaging;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results;

/// <summary>The equipment that makes our results, as written into every derived object (SEG and Secondary Capture).</summary>
public sealed record ResultEquipment
{
    public string Manufacturer { get; init; } = "SpineSegDiff";

    public string ManufacturerModelName { get; init; } = "SpineSegDiff.Pacs";

    /// <summary>Enhanced General Equipment makes it Type 1; software has no serial, so this names the installation.</summary>
    public string DeviceSerialNumber { get; init; } = "1";

    public string SoftwareVersions { get; init; } = typeof(ResultEquipment).Assembly.GetName().Version?.ToString(3) ?? "0";
}

/// <summary>
/// The source series a derived object is written against: its instances by SOP Instance UID, the series geometry,
/// and the slices the object covers. Shared by the SEG and Secondary Capture writers so both check "on this grid"
/// and pick slices the same way.
/// </summary>
internal sealed class SourceSeriesContext
{
    // Tolerances for "the map lies on this series' grid": positions within 0.05 mm, directions within ~0.06 degrees.
    internal const double OriginTolerance = 0.05;
    internal const double DirectionTolerance = 1e-3;

    private SourceSeriesContext(SeriesVolume series, IReadOnlyDictionary<string, DicomDataset> byUid, IReadOnlyList<int> selected)
    {
        Series = series;
        ByUid = byUid;
        Selected = selected;
    }

    public SeriesVolume Series { get; }

    public IReadOnlyDictionary<string, DicomDataset> ByUid { get; }

    /// <summary>Covered slice indices in the series order.</summary>
    public IReadOnlyList<int> Selected { get; }

    public int Rows => Series.Slices[0].Rows;

    public int Columns => Series.Slices[0].Columns;

    public int PixelsPerSlice => Rows * Columns;

    public DicomDataset Instance(int slice) => ByUid[Series.Slices[slice].SopInstanceUid];

    /// <summary>
    /// Builds the series and checks that <paramref name="map"/> (named <paramref name="mapName"/> in messages)
    /// lies on its grid: a map on another grid would put every pixel in the wrong place.
    /// </summary>
    public static SourceSeriesContext Prepare(IReadOnlyList<DicomDataset> sourceInstances, VolumeGeometry map, string mapName, SourceSliceSelection slices)
    {
        ArgumentNullException.ThrowIfNull(sourceInstances);
        ArgumentNullException.ThrowIfNull(slices);
        var series = SeriesVolume.Build(sourceInstances);
        CheckGrid(series.Volume.Geometry, map, mapName);
        var byUid = sourceInstances.ToDictionary(d => d.GetString(DicomTags.SOPInstanceUID)!, StringComparer.Ordinal);
        return new SourceSeriesContext(series, byUid, slices.Resolve(series.Slices.Count));
    }

    /// <summary>Same origin and row/column directions, within the tolerances: the first slices coincide.</summary>
    public static bool SameFirstPlane(VolumeGeometry a, VolumeGeometry b) =>
        (a.Origin - b.Origin).Length <= OriginTolerance
        && (a.Direction.Axis0 - b.Direction.Axis0).Length <= DirectionTolerance
        && (a.Direction.Axis1 - b.Direction.Axis1).Length <= DirectionTolerance;

    private static void CheckGrid(VolumeGeometry series, VolumeGeometry map, string mapName)
    {
        if (map.Size0 != series.Size0 || map.Size1 != series.Size1 || map.Size2 != series.Size2)
        {
            throw new ArgumentException(
                $"The {mapName} is {map.Size0}x{map.Size1}x{map.Size2}, the source series {series.Size0} columns x {series.Size1} rows x {series.Size2} slices.",
                mapName);
        }
        var misplaced = !SameFirstPlane(map, series)
            || (map.Size2 > 1 && (map.Direction.Axis2 - series.Direction.Axis2).Length > DirectionTolerance);
        if (misplaced)
        {
            throw new ArgumentException(
                $"The {mapName} (origin {map.Origin}) is not on the source series grid (origin {series.Origin}): frames would be misplaced.",
                mapName);
        }
    }
}

/// <summary>Attributes every derived object takes from its source or stamps as a new series in the source study.</summary>
internal static class DerivedSeries
{
    private static readonly DicomTag[] PatientAttributes =
    [
        DicomTags.PatientName, DicomTags.PatientID, DicomTags.IssuerOfPatientID, DicomTags.IssuerOfPatientIDQualifiersSequence,
        DicomTags.PatientBirthDate, DicomTags.PatientBirthTime, DicomTags.PatientSex, DicomTags.OtherPatientIDsSequence,
        DicomTags.PatientComments, DicomTags.PatientIdentityRemoved, DicomTags.DeidentificationMethod,
        DicomTags.DeidentificationMethodCodeSequence,
    ];

    private static readonly DicomTag[] StudyAttributes =
    [
        DicomTags.StudyInstanceUID, DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.ReferringPhysicianName,
        DicomTags.StudyID, DicomTags.AccessionNumber, DicomTags.IssuerOfAccessionNumberSequence, DicomTags.StudyDescription,
        DicomTags.PatientAge, DicomTags.PatientSize, DicomTags.PatientWeight, DicomTags.BodyPartExamined,
    ];

    // Only IODs with the Frame of Reference module (SEG) take these; a Secondary Capture has no patient coordinates.
    private static readonly DicomTag[] FrameOfReferenceAttributes = [DicomTags.FrameOfReferenceUID, DicomTags.PositionReferenceIndicator];

    // Type 2: present, empty when the source does not know them (PS3.3 C.7.1.1, C.7.2.1, C.7.4.1).
    private static readonly DicomTag[] RequiredEvenIfEmpty =
    [
        DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex,
        DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.ReferringPhysicianName, DicomTags.StudyID,
        DicomTags.AccessionNumber,
    ];

    /// <summary>
    /// A new dataset in the source's study: character set, patient and study attributes copied (optionally the frame
    /// of reference), new series and instance UIDs, dates from <paramref name="now"/>, equipment.
    /// </summary>
    public static DicomDataset Start(
        DicomDataset source,
        bool withFrameOfReference,
        string sopClassUid,
        string modality,
        string seriesDescription,
        int seriesNumber,
        ResultEquipment equipment,
        DateTime now,
        string seriesInstanceUid)
    {
        var ds = new DicomDataset();
        // The character set first, so that copied values keep their bytes and meaning.
        if (source.TryGet(DicomTags.SpecificCharacterSet, out var characterSet))
        {
            ds.Add(characterSet);
        }
        var tags = withFrameOfReference ? PatientAttributes.Concat(StudyAttributes).Concat(FrameOfReferenceAttributes) : PatientAttributes.Concat(StudyAttributes);
        foreach (var tag in tags)
        {
            if (source.TryGet(tag, out var item))
            {
                ds.Add(item is DicomSequence s ? new DicomSequence(s.Tag, s.Items.Select(i => i.Clone())) : item);
            }
        }
        var required = withFrameOfReference ? RequiredEvenIfEmpty.Append(DicomTags.PositionReferenceIndicator) : RequiredEvenIfEmpty;
        foreach (var tag in required.Where(t => !ds.Contains(t)))
        {
            ds.SetString(tag);
        }
        ds.SetString(DicomTags.SOPClassUID, sopClassUid);
        ds.SetString(DicomTags.SOPInstanceUID, DicomUids.Generate());
        ds.SetDate(DicomTags.InstanceCreationDate, DateOnly.FromDateTime(now));
        ds.SetTime(DicomTags.InstanceCreationTime, TimeOnly.FromDateTime(now));
        ds.SetDate(DicomTags.SeriesDate, DateOnly.FromDateTime(now));
        ds.SetTime(DicomTags.SeriesTime, TimeOnly.FromDateTime(now));
        ds.SetDate(DicomTags.ContentDate, DateOnly.FromDateTime(now));
        ds.SetTime(DicomTags.ContentTime, TimeOnly.FromDateTime(now));
        ds.SetString(DicomTags.Modality, modality);
        ds.SetString(DicomTags.Manufacturer, equipment.Manufacturer);
        ds.SetString(DicomTags.SeriesDescription, seriesDescription);
        ds.SetString(DicomTags.ManufacturerModelName, equipment.ManufacturerModelName);
        ds.SetString(DicomTags.DeviceSerialNumber, equipment.DeviceSerialNumber);
        ds.SetString(DicomTags.SoftwareVersions, equipment.SoftwareVersions);
        ds.SetString(DicomTags.SeriesInstanceUID, seriesInstanceUid);
        ds.SetIntegerString(DicomTags.SeriesNumber, seriesNumber);
        return ds;
    }

    /// <summary>A Source Image Sequence item: the image this one was derived from, purpose DCM 121322.</summary>
    public static DicomDataset SourceImage(DicomDataset source) =>
        new DicomDataset()
            .SetString(DicomTags.ReferencedSOPClassUID, source.GetString(DicomTags.SOPClassUID) ?? DicomUids.MRImageStorage)
            .SetString(DicomTags.ReferencedSOPInstanceUID, source.GetString(DicomTags.SOPInstanceUID)!)
            .SetSequence(DicomTags.PurposeOfReferenceCodeSequence, SpineCodes.SourceImageForProcessing.ToItem());

    /// <summary>Saves a derived object as a Part 10 file in Explicit VR Little Endian (the syntax every peer accepts).</summary>
    public static void Save(DicomDataset dataset, string path)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        DicomFile.Create(dataset, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
    }

    /// <summary>
    /// Refuses NaN and values outside [0, 1] rather than clamping them: they mean the caller passed something that
    /// is not the uncertainty map.
    /// </summary>
    public static void CheckUnitInterval(ReadOnlySpan<float> values, string parameter)
    {
        for (var n = 0; n < values.Length; n++)
        {
            if (!(values[n] >= 0f && values[n] <= 1f))
            {
                throw new ArgumentException($"Value {values[n]} at pixel {n} is not in [0, 1].", parameter);
            }
        }
    }

    /// <summary>Refuses label values outside the project convention (0 background, 1 canal, 2 vertebra, 3 disc).</summary>
    public static void CheckLabels(ReadOnlySpan<byte> labels, string parameter)
    {
        var index = labels.IndexOfAnyExceptInRange((byte)0, LabelClasses.Disc);
        if (index >= 0)
        {
            throw new ArgumentException($"Label value {labels[index]} (voxel {index}) is not one of 0..3 (background, spinal canal, vertebra, disc).", parameter);
        }
    }

    /// <summary>Pixel Data must have an even length (PS3.5 7.1.1): one zero byte after an odd-length value.</summary>
    public static byte[] PadToEven(byte[] value) => value.Length % 2 == 0 ? value : [.. value, 0];
}
