using SpineSegDiff.Imaging;
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
/// Writes Segmentation Storage objects (PS3.3 A.51) on the source series grid, each a new SEG series in the source study.
/// <para>
/// BINARY (<see cref="Write"/>): a label map (0 background, 1 spinal canal, 2 vertebra, 3 disc) as three segments.
/// Frames are ordered by segment, then by position along the slice normal. A frame is written only for a
/// (segment, slice) pair with at least one pixel set; every segment stays in the Segment Sequence even when it has
/// no frame (PS3.3 C.8.20.2 does not require frames per segment; highdicom does the same). When no selected
/// slice has any label at all, every (segment, slice) frame is written empty, because Number of Frames must be
/// greater than zero (C.7.6.6.1.1) and "nothing found" is still a result.
/// </para>
/// <para>
/// FRACTIONAL (<see cref="WriteUncertainty"/>): an uncertainty map in [0, 1] as one PROBABILITY segment, 8 bits,
/// Maximum Fractional Value 255, one frame per selected slice (zero frames included: "certain everywhere" is a result).
/// </para>
/// </summary>
public sealed class SegmentationWriter
{
    /// <summary>Stored value for 1.0 in the FRACTIONAL SEG: 8 bits, the full range (highdicom and dcmqi use 255 too).</summary>
    public const int MaximumFractionalValue = 255;

    private readonly SegmentationWriterOptions _options;

    public SegmentationWriter(SegmentationWriterOptions? options = null)
    {
        _options = options ?? new SegmentationWriterOptions();
    }

    /// <summary>
    /// Builds the BINARY SEG dataset. <paramref name="labels"/> must lie on the grid of
    /// <see cref="SeriesVolume.Build"/> for <paramref name="sourceInstances"/>: axis 0 = column, axis 1 = row,
    /// axis 2 = instances sorted along the slice normal.
    /// </summary>
    public SegmentationResult Write(
        IReadOnlyList<DicomDataset> sourceInstances,
        Volume<byte> labels,
        SourceSliceSelection slices,
        SegmentationAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(labels);
        CheckAlgorithm(algorithm);
        var source = SourceSeriesContext.Prepare(sourceInstances, labels.Geometry, nameof(labels), slices);
        var plane = source.PixelsPerSlice;
        DerivedSeries.CheckLabels(labels.Voxels, nameof(labels));

        var (segments, segmentMap) = _options.PerLevelSegments
            ? (LumbarLevelLabeller.Segments, LumbarLevelLabeller.Assign(labels, source.Selected))
            : (SpineSegment.All, labels.Voxels);
        var planned = new List<PlannedFrame>();
        var anyVoxel = new bool[segments.Count];
        for (var s = 0; s < segments.Count; s++)
        {
            foreach (var slice in source.Selected)
            {
                var mask = ExtractMask(segmentMap, slice * plane, plane, segments[s].Label);
                anyVoxel[s] |= mask.Any(b => b != 0);
                planned.Add(new PlannedFrame(s + 1, slice, mask));
            }
        }
        var frames = anyVoxel.Any(a => a) ? planned.Where(f => f.Pixels.Any(b => b != 0)).ToList() : planned;

        var ds = Start(source, segments, frames, algorithm, _options.SeriesDescription, _options.SeriesNumber, _options.ContentLabel, _options.ContentDescription, out var summary);
        SetPixelModule(ds, source, frames.Count, bits: 1);
        ds.SetString(DicomTags.SegmentationType, "BINARY");
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, BinaryFramePacking.Pack(frames.Select(f => f.Pixels).ToList(), plane));

        var empty = Enumerable.Range(1, segments.Count).Where(n => !anyVoxel[n - 1]).ToArray();
        return new SegmentationResult(ds, summary, source.Selected, empty);
    }

    /// <summary>
    /// Builds the FRACTIONAL (PROBABILITY) SEG of an uncertainty map with values in [0, 1] on the same grid as
    /// <see cref="Write"/> takes: one segment (<see cref="SpineSegment.Uncertainty"/>), one frame per selected
    /// slice, each value stored as round(value x 255).
    /// </summary>
    public SegmentationResult WriteUncertainty(
        IReadOnlyList<DicomDataset> sourceInstances,
        Volume<float> uncertainty,
        SourceSliceSelection slices,
        SegmentationAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(uncertainty);
        CheckAlgorithm(algorithm);
        var source = SourceSeriesContext.Prepare(sourceInstances, uncertainty.Geometry, nameof(uncertainty), slices);
        var plane = source.PixelsPerSlice;
        var frames = source.Selected
            .Select(slice => new PlannedFrame(1, slice, Quantize(uncertainty.Voxels.AsSpan(slice * plane, plane))))
            .ToList();

        SpineSegment[] segments = [SpineSegment.Uncertainty];
        var ds = Start(source, segments, frames, algorithm, _options.UncertaintySeriesDescription, _options.UncertaintySeriesNumber,
            _options.UncertaintyContentLabel, _options.UncertaintyContentDescription, out var summary);
        SetPixelModule(ds, source, frames.Count, bits: 8);
        ds.SetString(DicomTags.SegmentationType, "FRACTIONAL");
        ds.SetString(DicomTags.SegmentationFractionalType, "PROBABILITY");
        ds.SetUInt16(DicomTags.MaximumFractionalValue, MaximumFractionalValue);
        var pixels = new byte[frames.Count * plane];
        for (var f = 0; f < frames.Count; f++)
        {
            frames[f].Pixels.CopyTo(pixels, f * plane);
        }
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, DerivedSeries.PadToEven(pixels));

        var empty = frames.Any(f => f.Pixels.Any(v => v != 0)) ? Array.Empty<int>() : [1];
        return new SegmentationResult(ds, summary, source.Selected, empty);
    }

    /// <summary>Saves a SEG as a Part 10 file in Explicit VR Little Endian.</summary>
    public static void Save(DicomDataset segmentation, string path) => DerivedSeries.Save(segmentation, path);

    /// <summary>One frame to write: its segment, its source slice (series order) and its stored pixel values.</summary>
    private sealed record PlannedFrame(int Segment, int Slice, byte[] Pixels);

    private static void CheckAlgorithm(SegmentationAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentException.ThrowIfNullOrWhiteSpace(algorithm.Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(algorithm.Version);
    }

    /// <summary>
    /// Everything but the pixel-type attributes: the same for BINARY and FRACTIONAL, so both kinds of SEG place
    /// and reference their frames identically.
    /// </summary>
    private DicomDataset Start(
        SourceSeriesContext source,
        IReadOnlyList<SpineSegment> segments,
        IReadOnlyList<PlannedFrame> frames,
        SegmentationAlgorithm algorithm,
        string seriesDescription,
        int seriesNumber,
        string contentLabel,
        string contentDescription,
        out SegmentationFrame[] summary)
    {
        if (string.IsNullOrEmpty(source.Series.FrameOfReferenceUid))
        {
            throw new ArgumentException("The source series has no FrameOfReferenceUID: a SEG needs the source's patient coordinates.", "sourceInstances");
        }
        var first = source.Instance(source.Selected[0]);
        var now = _options.Clock.GetLocalNow().DateTime;
        var ds = DerivedSeries.Start(first, withFrameOfReference: true, DicomUids.SegmentationStorage, "SEG", seriesDescription, seriesNumber,
            _options.Equipment, now, DicomUids.Generate());
        ds.SetString(DicomTags.ImageType, "DERIVED", "PRIMARY");
        ds.SetSequence(DicomTags.ReferencedSeriesSequence, ReferencedSeries(source));
        ds.SetIntegerString(DicomTags.InstanceNumber, _options.InstanceNumber);

        var dimensionOrganization = DicomUids.Generate();
        ds.SetSequence(DicomTags.DimensionOrganizationSequence, new DicomDataset().SetString(DicomTags.DimensionOrganizationUID, dimensionOrganization));
        ds.SetSequence(DicomTags.DimensionIndexSequence,
            DimensionIndex(dimensionOrganization, DicomTags.ReferencedSegmentNumber, DicomTags.SegmentIdentificationSequence, "Segment Number"),
            DimensionIndex(dimensionOrganization, DicomTags.ImagePositionPatient, DicomTags.PlanePositionSequence, "Image Position Patient"));

        ds.SetString(DicomTags.LossyImageCompression, "00");
        ds.SetSequence(DicomTags.SegmentSequence, segments.Select((s, i) => SegmentItem(s, i + 1, algorithm)).ToArray());
        ds.SetString(DicomTags.ContentLabel, contentLabel);
        ds.SetString(DicomTags.ContentDescription, contentDescription);
        ds.SetString(DicomTags.ContentCreatorName, _options.ContentCreatorName);

        ds.SetSequence(DicomTags.SharedFunctionalGroupsSequence, SharedGroups(first));
        // Dimension index of a position: its rank among the positions this SEG uses, from 1 (PS3.3 C.7.6.17.1).
        var positionRank = source.Selected.Order().Select((slice, rank) => (slice, rank)).ToDictionary(p => p.slice, p => p.rank + 1);
        var perFrame = new DicomDataset[frames.Count];
        summary = new SegmentationFrame[frames.Count];
        for (var f = 0; f < frames.Count; f++)
        {
            var (segment, slice, _) = frames[f];
            perFrame[f] = FrameGroups(source.Instance(slice), segment, positionRank[slice]);
            summary[f] = new SegmentationFrame(f + 1, segment, slice, source.Series.Slices[slice].SopInstanceUid);
        }
        ds.SetSequence(DicomTags.PerFrameFunctionalGroupsSequence, perFrame);
        return ds;
    }

    private static void SetPixelModule(DicomDataset ds, SourceSeriesContext source, int frameCount, int bits)
    {
        ds.SetUInt16(DicomTags.SamplesPerPixel, 1);
        ds.SetString(DicomTags.PhotometricInterpretation, "MONOCHROME2");
        ds.SetIntegerString(DicomTags.NumberOfFrames, frameCount);
        ds.SetUInt16(DicomTags.Rows, (ushort)source.Rows);
        ds.SetUInt16(DicomTags.Columns, (ushort)source.Columns);
        ds.SetUInt16(DicomTags.BitsAllocated, (ushort)bits);
        ds.SetUInt16(DicomTags.BitsStored, (ushort)bits);
        ds.SetUInt16(DicomTags.HighBit, (ushort)(bits - 1));
        ds.SetUInt16(DicomTags.PixelRepresentation, 0);
    }

    private static byte[] ExtractMask(byte[] segmentMap, int offset, int count, byte value)
    {
        var mask = new byte[count];
        for (var n = 0; n < count; n++)
        {
            mask[n] = segmentMap[offset + n] == value ? (byte)1 : (byte)0;
        }
        return mask;
    }

    /// <summary>[0, 1] to 0..255, rounded to nearest so a reader dividing by 255 is within half a step.</summary>
    private static byte[] Quantize(ReadOnlySpan<float> values)
    {
        DerivedSeries.CheckUnitInterval(values, "uncertainty");
        var stored = new byte[values.Length];
        for (var n = 0; n < values.Length; n++)
        {
            stored[n] = (byte)Math.Round(values[n] * (double)MaximumFractionalValue, MidpointRounding.AwayFromZero);
        }
        return stored;
    }

    private static DicomDataset ReferencedSeries(SourceSeriesContext source)
    {
        var instances = source.Selected.Select(slice =>
        {
            var instance = source.Instance(slice);
            return new DicomDataset()
                .SetString(DicomTags.ReferencedSOPClassUID, instance.GetString(DicomTags.SOPClassUID) ?? DicomUids.MRImageStorage)
                .SetString(DicomTags.ReferencedSOPInstanceUID, source.Series.Slices[slice].SopInstanceUid);
        }).ToArray();
        return new DicomDataset()
            .SetSequence(DicomTags.ReferencedInstanceSequence, instances)
            .SetString(DicomTags.SeriesInstanceUID, source.Series.SeriesInstanceUid ?? throw new ArgumentException("The source series has no SeriesInstanceUID."));
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
            .SetString(DicomTags.SegmentDescription, segment.Description)
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
        var derivation = new DicomDataset()
            .SetSequence(DicomTags.SourceImageSequence, DerivedSeries.SourceImage(source))
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
