using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;

namespace SpineSegDiff.Results.Segmentation;

/// <summary>One frame of a written SEG: which segment, on which source slice (series order) and image.</summary>
public sealed record SegmentationFrame(int FrameNumber, int SegmentNumber, int SourceSliceIndex, string SourceSopInstanceUid);

/// <summary>A written SEG dataset and a summary of what it holds.</summary>
public sealed record SegmentationResult(
    DicomDataset Dataset,
    IReadOnlyList<SegmentationFrame> Frames,
    IReadOnlyList<int> SourceSlices,
    IReadOnlyList<int> EmptySegmentNumbers)
{
    public string SopInstanceUid => Dataset.GetString(DicomTags.SOPInstanceUID)!;

    public string SeriesInstanceUid => Dataset.GetString(DicomTags.SeriesInstanceUID)!;
}

/// <summary>
/// Writes a BINARY Segmentation Storage object (PS3.3 A.51) for a label map on the source series grid
/// (0 background, 1 spinal canal, 2 vertebra, 3 disc): a new SEG series in the source study with three segments.
/// Frames are ordered by segment, then by position along the slice normal. A frame is written only for a
/// (segment, slice) pair with at least one pixel set; every segment stays in the Segment Sequence even when it has
/// no frame (PS3.3 C.8.20.2 does not require frames per segment; highdicom does the same). When no selected
/// slice has any label at all, every (segment, slice) frame is written empty, because Number of Frames must be
/// greater than zero (C.7.6.6.1.1) and "nothing found" is still a result.
/// </summary>
public sealed class SegmentationWriter
{
    // Tolerances for "the label map lies on this series' grid": positions within 0.05 mm, directions within ~0.06 degrees.
    private const double OriginTolerance = 0.05;
    private const double DirectionTolerance = 1e-3;

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
        DicomTags.PatientAge, DicomTags.PatientSize, DicomTags.PatientWeight,
        DicomTags.FrameOfReferenceUID, DicomTags.PositionReferenceIndicator, DicomTags.BodyPartExamined,
    ];

    // Type 2: present, empty when the source does not know them (PS3.3 C.7.1.1, C.7.2.1, C.7.4.1).
    private static readonly DicomTag[] RequiredEvenIfEmpty =
    [
        DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex,
        DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.ReferringPhysicianName, DicomTags.StudyID,
        DicomTags.AccessionNumber, DicomTags.PositionReferenceIndicator,
    ];

    private readonly SegmentationWriterOptions _options;

    public SegmentationWriter(SegmentationWriterOptions? options = null)
    {
        _options = options ?? new SegmentationWriterOptions();
    }

    /// <summary>
    /// Builds the SEG dataset. <paramref name="labels"/> must lie on the grid of
    /// <see cref="SeriesVolume.Build"/> for <paramref name="sourceInstances"/>: axis 0 = column, axis 1 = row,
    /// axis 2 = instances sorted along the slice normal.
    /// </summary>
    public SegmentationResult Write(
        IReadOnlyList<DicomDataset> sourceInstances,
        Volume<byte> labels,
        SourceSliceSelection slices,
        SegmentationAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(sourceInstances);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(slices);
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentException.ThrowIfNullOrWhiteSpace(algorithm.Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(algorithm.Version);

        var series = SeriesVolume.Build(sourceInstances);
        CheckGrid(series.Volume.Geometry, labels.Geometry);
        if (string.IsNullOrEmpty(series.FrameOfReferenceUid))
        {
            throw new ArgumentException("The source series has no FrameOfReferenceUID: a SEG needs the source's patient coordinates.", nameof(sourceInstances));
        }
        var byUid = sourceInstances.ToDictionary(d => d.GetString(DicomTags.SOPInstanceUID)!, StringComparer.Ordinal);
        var selected = slices.Resolve(series.Slices.Count);
        var rows = series.Slices[0].Rows;
        var columns = series.Slices[0].Columns;
        var plane = rows * columns;

        var segments = SpineSegment.All;
        var planned = new List<(int Segment, int Slice, byte[] Mask)>();
        var anyVoxel = new bool[segments.Count];
        for (var s = 0; s < segments.Count; s++)
        {
            foreach (var slice in selected)
            {
                var mask = ExtractMask(labels.Voxels, slice * plane, plane, segments[s].Label);
                if (mask.Any(b => b != 0))
                {
                    anyVoxel[s] = true;
                }
                planned.Add((s + 1, slice, mask));
            }
        }
        var frames = anyVoxel.Any(a => a) ? planned.Where(f => f.Mask.Any(b => b != 0)).ToList() : planned;

        var first = byUid[series.Slices[selected[0]].SopInstanceUid];
        var ds = new DicomDataset();
        CopyPatientAndStudy(first, ds);
        var now = _options.Clock.GetLocalNow().DateTime;
        var seriesUid = DicomUids.Generate();
        var instanceUid = DicomUids.Generate();

        ds.SetString(DicomTags.ImageType, "DERIVED", "PRIMARY");
        ds.SetString(DicomTags.SOPClassUID, DicomUids.SegmentationStorage);
        ds.SetString(DicomTags.SOPInstanceUID, instanceUid);
        ds.SetDate(DicomTags.InstanceCreationDate, DateOnly.FromDateTime(now));
        ds.SetTime(DicomTags.InstanceCreationTime, TimeOnly.FromDateTime(now));
        ds.SetDate(DicomTags.SeriesDate, DateOnly.FromDateTime(now));
        ds.SetTime(DicomTags.SeriesTime, TimeOnly.FromDateTime(now));
        ds.SetDate(DicomTags.ContentDate, DateOnly.FromDateTime(now));
        ds.SetTime(DicomTags.ContentTime, TimeOnly.FromDateTime(now));
        ds.SetString(DicomTags.Modality, "SEG");
        ds.SetString(DicomTags.Manufacturer, _options.Manufacturer);
        ds.SetString(DicomTags.SeriesDescription, _options.SeriesDescription);
        ds.SetString(DicomTags.ManufacturerModelName, _options.ManufacturerModelName);
        ds.SetSequence(DicomTags.ReferencedSeriesSequence, ReferencedSeries(series, selected, byUid));
        ds.SetString(DicomTags.DeviceSerialNumber, _options.DeviceSerialNumber);
        ds.SetString(DicomTags.SoftwareVersions, _options.SoftwareVersions);
        ds.SetString(DicomTags.SeriesInstanceUID, seriesUid);
        ds.SetIntegerString(DicomTags.SeriesNumber, _options.SeriesNumber);
        ds.SetIntegerString(DicomTags.InstanceNumber, _options.InstanceNumber);

        var dimensionOrganization = DicomUids.Generate();
        ds.SetSequence(DicomTags.DimensionOrganizationSequence, new DicomDataset().SetString(DicomTags.DimensionOrganizationUID, dimensionOrganization));
        ds.SetSequence(DicomTags.DimensionIndexSequence,
            DimensionIndex(dimensionOrganization, DicomTags.ReferencedSegmentNumber, DicomTags.SegmentIdentificationSequence, "Segment Number"),
            DimensionIndex(dimensionOrganization, DicomTags.ImagePositionPatient, DicomTags.PlanePositionSequence, "Image Position Patient"));

        ds.SetUInt16(DicomTags.SamplesPerPixel, 1);
        ds.SetString(DicomTags.PhotometricInterpretation, "MONOCHROME2");
        ds.SetIntegerString(DicomTags.NumberOfFrames, frames.Count);
        ds.SetUInt16(DicomTags.Rows, (ushort)rows);
        ds.SetUInt16(DicomTags.Columns, (ushort)columns);
        ds.SetUInt16(DicomTags.BitsAllocated, 1);
        ds.SetUInt16(DicomTags.BitsStored, 1);
        ds.SetUInt16(DicomTags.HighBit, 0);
        ds.SetUInt16(DicomTags.PixelRepresentation, 0);
        ds.SetString(DicomTags.LossyImageCompression, "00");

        ds.SetString(DicomTags.SegmentationType, "BINARY");
        ds.SetSequence(DicomTags.SegmentSequence, segments.Select((s, i) => SegmentItem(s, i + 1, algorithm)).ToArray());
        ds.SetString(DicomTags.ContentLabel, _options.ContentLabel);
        ds.SetString(DicomTags.ContentDescription, _options.ContentDescription);
        ds.SetString(DicomTags.ContentCreatorName, _options.ContentCreatorName);

        ds.SetSequence(DicomTags.SharedFunctionalGroupsSequence, SharedGroups(first));
        // Dimension index of a position: its rank among the positions this SEG uses, from 1 (PS3.3 C.7.6.17.1).
        var positionRank = selected.Order().Select((slice, rank) => (slice, rank)).ToDictionary(p => p.slice, p => p.rank + 1);
        var perFrame = new DicomDataset[frames.Count];
        var summary = new SegmentationFrame[frames.Count];
        for (var f = 0; f < frames.Count; f++)
        {
            var (segment, slice, _) = frames[f];
            var source = byUid[series.Slices[slice].SopInstanceUid];
            perFrame[f] = FrameGroups(source, segment, positionRank[slice]);
            summary[f] = new SegmentationFrame(f + 1, segment, slice, series.Slices[slice].SopInstanceUid);
        }
        ds.SetSequence(DicomTags.PerFrameFunctionalGroupsSequence, perFrame);
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, BinaryFramePacking.Pack(frames.Select(f => f.Mask).ToList(), plane));

        var empty = Enumerable.Range(1, segments.Count).Where(n => !anyVoxel[n - 1]).ToArray();
        return new SegmentationResult(ds, summary, selected, empty);
    }

    /// <summary>Saves a SEG as a Part 10 file in Explicit VR Little Endian.</summary>
    public static void Save(DicomDataset segmentation, string path)
    {
        ArgumentNullException.ThrowIfNull(segmentation);
        DicomFile.Create(segmentation, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
    }

    private static void CheckGrid(VolumeGeometry series, VolumeGeometry labels)
    {
        if (labels.Size0 != series.Size0 || labels.Size1 != series.Size1 || labels.Size2 != series.Size2)
        {
            throw new ArgumentException(
                $"The label map is {labels.Size0}x{labels.Size1}x{labels.Size2}, the source series {series.Size0} columns x {series.Size1} rows x {series.Size2} slices.",
                nameof(labels));
        }
        var misplaced = (labels.Origin - series.Origin).Length > OriginTolerance
            || (labels.Direction.Axis0 - series.Direction.Axis0).Length > DirectionTolerance
            || (labels.Direction.Axis1 - series.Direction.Axis1).Length > DirectionTolerance
            || (labels.Size2 > 1 && (labels.Direction.Axis2 - series.Direction.Axis2).Length > DirectionTolerance);
        if (misplaced)
        {
            throw new ArgumentException(
                $"The label map (origin {labels.Origin}) is not on the source series grid (origin {series.Origin}): frames would be misplaced.",
                nameof(labels));
        }
    }

    private static byte[] ExtractMask(byte[] labels, int offset, int count, byte label)
    {
        var mask = new byte[count];
        for (var n = 0; n < count; n++)
        {
            var value = labels[offset + n];
            if (value > 3)
            {
                throw new ArgumentException($"Label value {value} is not one of 0..3 (background, canal, vertebra, disc).", nameof(labels));
            }
            mask[n] = value == label ? (byte)1 : (byte)0;
        }
        return mask;
    }

    private static void CopyPatientAndStudy(DicomDataset source, DicomDataset target)
    {
        // The character set first, so that copied values keep their bytes and meaning.
        if (source.TryGet(DicomTags.SpecificCharacterSet, out var characterSet))
        {
            target.Add(characterSet);
        }
        foreach (var tag in PatientAttributes.Concat(StudyAttributes))
        {
            if (source.TryGet(tag, out var item))
            {
                target.Add(item is DicomSequence s ? new DicomSequence(s.Tag, s.Items.Select(i => i.Clone())) : item);
            }
        }
        foreach (var tag in RequiredEvenIfEmpty.Where(t => !target.Contains(t)))
        {
            target.SetString(tag);
        }
    }

    private static DicomDataset ReferencedSeries(SeriesVolume series, IReadOnlyList<int> selected, IReadOnlyDictionary<string, DicomDataset> byUid)
    {
        var instances = selected.Select(slice =>
        {
            var source = byUid[series.Slices[slice].SopInstanceUid];
            return new DicomDataset()
                .SetString(DicomTags.ReferencedSOPClassUID, source.GetString(DicomTags.SOPClassUID) ?? DicomUids.MRImageStorage)
                .SetString(DicomTags.ReferencedSOPInstanceUID, series.Slices[slice].SopInstanceUid);
        }).ToArray();
        return new DicomDataset()
            .SetSequence(DicomTags.ReferencedInstanceSequence, instances)
            .SetString(DicomTags.SeriesInstanceUID, series.SeriesInstanceUid ?? throw new ArgumentException("The source series has no SeriesInstanceUID."));
    }

    private static DicomDataset DimensionIndex(string organization, DicomTag pointer, DicomTag group, string label) =>
        new DicomDataset()
            .SetString(DicomTags.DimensionOrganizationUID, organization)
            .SetTags(DicomTags.DimensionIndexPointer, pointer)
            .SetTags(DicomTags.FunctionalGroupPointer, group)
            .SetString(DicomTags.DimensionDescriptionLabel, label);

    private static DicomDataset SegmentItem(SpineSegment segment, int number, SegmentationAlgorithm algorithm)
    {
        var identification = new DicomDataset()
            .SetSequence(DicomTags.AlgorithmFamilyCodeSequence, algorithm.Family.ToItem())
            .SetString(DicomTags.AlgorithmVersion, algorithm.Version)
            .SetString(DicomTags.AlgorithmName, algorithm.Name);
        if (!string.IsNullOrWhiteSpace(algorithm.Parameters))
        {
            identification.SetString(DicomTags.AlgorithmParameters, algorithm.Parameters);
        }
        var item = new DicomDataset()
            .SetSequence(DicomTags.AnatomicRegionSequence, SpineCodes.LumbarSpine.ToItem())
            .SetSequence(DicomTags.SegmentedPropertyCategoryCodeSequence, segment.Category.ToItem())
            .SetUInt16(DicomTags.SegmentNumber, (ushort)number)
            .SetString(DicomTags.SegmentLabel, segment.SegmentLabel)
            .SetString(DicomTags.SegmentDescription, $"{segment.SegmentLabel} ({segment.Type.Meaning}, label {segment.Label})")
            .SetSequence(DicomTags.SegmentationAlgorithmIdentificationSequence, identification)
            .SetString(DicomTags.SegmentAlgorithmType, "AUTOMATIC")
            .SetString(DicomTags.SegmentAlgorithmName, algorithm.Name)
            .SetUInt16(DicomTags.RecommendedDisplayCIELabValue, DicomCieLab.ToScaled(segment.DisplayColor))
            .SetSequence(DicomTags.SegmentedPropertyTypeCodeSequence, segment.Type.ToItem());
        return item;
    }

    private static DicomDataset SharedGroups(DicomDataset source)
    {
        var measures = new DicomDataset();
        CopyElement(source, measures, DicomTags.SliceThickness);
        CopyElement(source, measures, DicomTags.PixelSpacing);
        CopyElement(source, measures, DicomTags.SpacingBetweenSlices);
        var orientation = new DicomDataset();
        CopyElement(source, orientation, DicomTags.ImageOrientationPatient);
        return new DicomDataset()
            .SetSequence(DicomTags.PixelMeasuresSequence, measures)
            .SetSequence(DicomTags.PlaneOrientationSequence, orientation);
    }

    private static DicomDataset FrameGroups(DicomDataset source, int segmentNumber, int positionIndex)
    {
        var sourceImage = new DicomDataset()
            .SetString(DicomTags.ReferencedSOPClassUID, source.GetString(DicomTags.SOPClassUID) ?? DicomUids.MRImageStorage)
            .SetString(DicomTags.ReferencedSOPInstanceUID, source.GetString(DicomTags.SOPInstanceUID)!)
            .SetSequence(DicomTags.PurposeOfReferenceCodeSequence, SpineCodes.SourceImageForProcessing.ToItem());
        var derivation = new DicomDataset()
            .SetSequence(DicomTags.SourceImageSequence, sourceImage)
            .SetSequence(DicomTags.DerivationCodeSequence, SpineCodes.Segmentation.ToItem());
        var position = new DicomDataset();
        // The source's own DS bytes: a reader comparing positions with the source sees exactly equal values.
        CopyElement(source, position, DicomTags.ImagePositionPatient);
        return new DicomDataset()
            .SetSequence(DicomTags.DerivationImageSequence, derivation)
            .SetSequence(DicomTags.FrameContentSequence, new DicomDataset().SetUInt32(DicomTags.DimensionIndexValues, (uint)segmentNumber, (uint)positionIndex))
            .SetSequence(DicomTags.PlanePositionSequence, position)
            .SetSequence(DicomTags.SegmentIdentificationSequence, new DicomDataset().SetUInt16(DicomTags.ReferencedSegmentNumber, (ushort)segmentNumber));
    }

    private static void CopyElement(DicomDataset source, DicomDataset target, DicomTag tag)
    {
        if (source.TryGet(tag, out var item))
        {
            target.Add(item);
        }
    }
}
