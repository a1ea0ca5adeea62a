using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;

namespace SpineSegDiff.Results.Segmentation;

/// <summary>A SEG this reader cannot decode (Label Map SEG, compressed pixel data, ...): the message says what and why.</summary>
public sealed class UnsupportedSegmentationException(string message) : Exception(message);

/// <summary>A SEG whose content contradicts itself or the source series (missing attributes, frames nowhere on the source grid).</summary>
public sealed class SegmentationFormatException(string message) : Exception(message);

public enum SegmentationKind
{
    Binary,
    Fractional,
}

/// <summary>One item of the Segment Sequence.</summary>
public sealed record SegmentDescription(
    int Number,
    string Label,
    CodedConcept? Category,
    CodedConcept? Type,
    string? AlgorithmType,
    string? AlgorithmName,
    IReadOnlyList<ushort>? RecommendedDisplayCieLab);

/// <summary>
/// One decoded frame: its segment, the source image it says it was derived from, its plane, and the pixels
/// (0/1 for BINARY, the stored 0..MaximumFractionalValue for FRACTIONAL), row by row.
/// </summary>
public sealed record DecodedFrame(
    int FrameNumber,
    int SegmentNumber,
    string? ReferencedSopInstanceUid,
    Vec3? ImagePositionPatient,
    double[]? ImageOrientationPatient,
    byte[] Pixels);

/// <summary>A decoded SEG, independent of any source series.</summary>
public sealed class DecodedSegmentation
{
    // Same tolerance the writer uses for "on this grid": frames a hundredth of a millimetre off are the same plane.
    private const double PositionTolerance = 0.05;
    private const double OrientationTolerance = 1e-3;

    internal DecodedSegmentation(
        SegmentationKind kind, int rows, int columns, int maximumFractionalValue, string? fractionalType,
        string? frameOfReferenceUid, IReadOnlyList<SegmentDescription> segments, IReadOnlyList<DecodedFrame> frames)
    {
        Kind = kind;
        Rows = rows;
        Columns = columns;
        MaximumFractionalValue = maximumFractionalValue;
        FractionalType = fractionalType;
        FrameOfReferenceUid = frameOfReferenceUid;
        Segments = segments;
        Frames = frames;
    }

    public SegmentationKind Kind { get; }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>1 for BINARY; Maximum Fractional Value for FRACTIONAL.</summary>
    public int MaximumFractionalValue { get; }

    /// <summary>PROBABILITY or OCCUPANCY for FRACTIONAL, null for BINARY.</summary>
    public string? FractionalType { get; }

    public string? FrameOfReferenceUid { get; }

    public IReadOnlyList<SegmentDescription> Segments { get; }

    public IReadOnlyList<DecodedFrame> Frames { get; }

    /// <summary>
    /// Places every frame on the source series grid (axis 0 = column, axis 1 = row, axis 2 = source slice in
    /// <paramref name="sourceSlices"/> order, as <see cref="SeriesVolume.Slices"/>): by Referenced SOP Instance UID,
    /// or, for a frame without a reference that is in the series, by Image Position (Patient). Returns one array per
    /// segment number (every segment of the Segment Sequence, zeros where no frame), Columns*Rows*slices long.
    /// A frame whose reference and position disagree is an error, not a guess: viewers that place by one or the
    /// other would show it in different places.
    /// </summary>
    public IReadOnlyDictionary<int, byte[]> ToSourceGrid(IReadOnlyList<SourceImageReference> sourceSlices)
    {
        ArgumentNullException.ThrowIfNull(sourceSlices);
        if (sourceSlices.Count == 0)
        {
            throw new ArgumentException("The source series has no slices.", nameof(sourceSlices));
        }
        var plane = Rows * Columns;
        var masks = Segments.ToDictionary(s => s.Number, _ => new byte[checked(plane * sourceSlices.Count)]);
        var byUid = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var k = 0; k < sourceSlices.Count; k++)
        {
            byUid[sourceSlices[k].SopInstanceUid] = k;
        }
        foreach (var frame in Frames)
        {
            var slice = Locate(frame, sourceSlices, byUid);
            var source = sourceSlices[slice];
            if (source.Rows != Rows || source.Columns != Columns)
            {
                throw new SegmentationFormatException(
                    $"Frame {frame.FrameNumber} is {Rows}x{Columns}, its source image {source.SopInstanceUid} {source.Rows}x{source.Columns}: only SEGs on the source grid are supported.");
            }
            if (!masks.TryGetValue(frame.SegmentNumber, out var mask))
            {
                throw new SegmentationFormatException($"Frame {frame.FrameNumber} references segment {frame.SegmentNumber}, which the Segment Sequence does not define.");
            }
            var target = mask.AsSpan(slice * plane, plane);
            for (var p = 0; p < plane; p++)
            {
                // Overlapping frames of one segment on one slice (allowed, if odd) are merged.
                target[p] = Math.Max(target[p], frame.Pixels[p]);
            }
        }
        return masks;
    }

    private static int Locate(DecodedFrame frame, IReadOnlyList<SourceImageReference> slices, Dictionary<string, int> byUid)
    {
        int? byReference = frame.ReferencedSopInstanceUid is { } uid && byUid.TryGetValue(uid, out var k) ? k : null;
        int? byPosition = null;
        if (frame.ImagePositionPatient is { } position)
        {
            for (var i = 0; i < slices.Count; i++)
            {
                if ((slices[i].ImagePositionPatient - position).Length <= PositionTolerance)
                {
                    byPosition = i;
                    break;
                }
            }
        }
        if (byReference is { } r)
        {
            if (frame.ImagePositionPatient is not null && byPosition != r)
            {
                throw new SegmentationFormatException(
                    $"Frame {frame.FrameNumber} references source image {frame.ReferencedSopInstanceUid} at {slices[r].ImagePositionPatient}, but its Image Position (Patient) is {frame.ImagePositionPatient}.");
            }
            CheckOrientation(frame, slices[r]);
            return r;
        }
        if (byPosition is { } p)
        {
            CheckOrientation(frame, slices[p]);
            return p;
        }
        throw new SegmentationFormatException(
            $"Frame {frame.FrameNumber} matches no source image (reference {frame.ReferencedSopInstanceUid ?? "none"}, position {(frame.ImagePositionPatient?.ToString() ?? "none")}).");
    }

    private static void CheckOrientation(DecodedFrame frame, SourceImageReference source)
    {
        if (frame.ImageOrientationPatient is not { Length: 6 } o)
        {
            return;
        }
        var row = new Vec3(o[0], o[1], o[2]);
        var column = new Vec3(o[3], o[4], o[5]);
        if ((row - source.RowDirection).Length > OrientationTolerance || (column - source.ColumnDirection).Length > OrientationTolerance)
        {
            throw new SegmentationFormatException($"Frame {frame.FrameNumber} is not in the plane of its source image {source.SopInstanceUid}.");
        }
    }
}

/// <summary>
/// Decodes BINARY and FRACTIONAL Segmentation Storage objects, ours and other tools', into per-frame masks and,
/// given the source series, into per-segment masks on the source grid.
/// </summary>
public static class SegmentationReader
{
    public const string LabelMapSegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.7";

    public static DecodedSegmentation Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        DicomFile file;
        try
        {
            file = DicomFile.Open(path);
        }
        catch (DicomFormatException ex)
        {
            throw new SegmentationFormatException($"{Path.GetFileName(path)} is not a readable DICOM file: {ex.Message}");
        }
        return Read(file);
    }

    public static DecodedSegmentation Read(DicomFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var syntax = file.TransferSyntax;
        if (syntax.IsEncapsulated)
        {
            throw new UnsupportedSegmentationException($"Compressed pixel data ({syntax}) is not supported: ask the sender for Explicit VR Little Endian.");
        }
        return Read(file.Dataset);
    }

    public static DecodedSegmentation Read(DicomDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var sopClass = dataset.GetString(DicomTags.SOPClassUID);
        if (sopClass == LabelMapSegmentationStorage)
        {
            throw new UnsupportedSegmentationException("Label Map Segmentation Storage (1.2.840.10008.5.1.4.1.1.66.7) is not supported: only BINARY and FRACTIONAL Segmentation Storage.");
        }
        if (sopClass != DicomUids.SegmentationStorage)
        {
            throw new UnsupportedSegmentationException($"SOP Class {sopClass ?? "(none)"} is not Segmentation Storage ({DicomUids.SegmentationStorage}).");
        }
        var type = dataset.GetString(DicomTags.SegmentationType);
        var kind = type switch
        {
            "BINARY" => SegmentationKind.Binary,
            "FRACTIONAL" => SegmentationKind.Fractional,
            "LABELMAP" => throw new UnsupportedSegmentationException("Segmentation Type LABELMAP is not supported: only BINARY and FRACTIONAL."),
            _ => throw new SegmentationFormatException($"Segmentation Type '{type ?? "(none)"}' is not BINARY or FRACTIONAL."),
        };
        if (!dataset.TryGet(DicomTags.PixelData, out var pixelItem))
        {
            throw new SegmentationFormatException("The SEG has no Pixel Data.");
        }
        if (pixelItem is DicomFragmentSequence)
        {
            throw new UnsupportedSegmentationException("Encapsulated (compressed) pixel data is not supported: ask the sender for Explicit VR Little Endian.");
        }
        var rows = Required(dataset.GetUInt16(DicomTags.Rows), "Rows");
        var columns = Required(dataset.GetUInt16(DicomTags.Columns), "Columns");
        var bitsAllocated = Required(dataset.GetUInt16(DicomTags.BitsAllocated), "BitsAllocated");
        var samples = dataset.GetUInt16(DicomTags.SamplesPerPixel) ?? 1;
        if (samples != 1)
        {
            throw new SegmentationFormatException($"Samples per Pixel is {samples}; a SEG has 1.");
        }
        var expectedBits = kind == SegmentationKind.Binary ? 1 : 8;
        if (bitsAllocated != expectedBits)
        {
            throw new UnsupportedSegmentationException($"{type} with Bits Allocated {bitsAllocated} is not supported (expected {expectedBits}).");
        }
        var frameCount = ParseFrameCount(dataset);
        var plane = rows * columns;
        var pixelData = dataset.GetBytes(DicomTags.PixelData).Span;
        var needed = kind == SegmentationKind.Binary ? BinaryFramePacking.PackedLength(frameCount, plane) : (long)frameCount * plane;
        if (pixelData.Length < needed)
        {
            throw new SegmentationFormatException($"Pixel Data has {pixelData.Length} bytes; {frameCount} frames of {rows}x{columns} need {needed}.");
        }

        var segments = ReadSegments(dataset);
        var shared = dataset.GetSequence(DicomTags.SharedFunctionalGroupsSequence)?.Items.FirstOrDefault();
        var perFrame = dataset.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)?.Items;
        if (perFrame is not null && perFrame.Count != frameCount)
        {
            throw new SegmentationFormatException($"Per-frame Functional Groups has {perFrame.Count} items for {frameCount} frames.");
        }
        var frames = new DecodedFrame[frameCount];
        for (var f = 0; f < frameCount; f++)
        {
            var own = perFrame?[f];
            var segmentNumber = Group(own, shared, DicomTags.SegmentIdentificationSequence)?.GetUInt16(DicomTags.ReferencedSegmentNumber)
                ?? (segments.Count == 1 ? segments[0].Number : throw new SegmentationFormatException($"Frame {f + 1} has no Referenced Segment Number."));
            var reference = Group(own, shared, DicomTags.DerivationImageSequence)
                ?.GetSequence(DicomTags.SourceImageSequence)?.Items.FirstOrDefault()
                ?.GetString(DicomTags.ReferencedSOPInstanceUID);
            var position = Decimals(Group(own, shared, DicomTags.PlanePositionSequence), DicomTags.ImagePositionPatient, 3, f);
            var orientation = Decimals(Group(own, shared, DicomTags.PlaneOrientationSequence), DicomTags.ImageOrientationPatient, 6, f);
            var pixels = kind == SegmentationKind.Binary
                ? BinaryFramePacking.Unpack(pixelData, f, plane)
                : pixelData.Slice(f * plane, plane).ToArray();
            frames[f] = new DecodedFrame(f + 1, segmentNumber, reference,
                position is null ? null : new Vec3(position[0], position[1], position[2]), orientation, pixels);
        }
        var maximum = kind == SegmentationKind.Binary ? 1 : dataset.GetUInt16(DicomTags.MaximumFractionalValue) ?? 255;
        var fractionalType = kind == SegmentationKind.Fractional ? dataset.GetString(DicomTags.SegmentationFractionalType) : null;
        return new DecodedSegmentation(kind, rows, columns, maximum, fractionalType,
            dataset.GetString(DicomTags.FrameOfReferenceUID), segments, frames);
    }

    private static int Required(ushort? value, string name) =>
        value is { } v and > 0 ? v : throw new SegmentationFormatException($"The SEG has no valid {name}.");

    private static int ParseFrameCount(DicomDataset dataset)
    {
        int[] values;
        try
        {
            values = dataset.GetIntegerStrings(DicomTags.NumberOfFrames);
        }
        catch (FormatException)
        {
            throw new SegmentationFormatException($"Number of Frames '{dataset.GetString(DicomTags.NumberOfFrames)}' is not an integer.");
        }
        return values is [var n] && n > 0 ? n : values.Length == 0 ? 1 : throw new SegmentationFormatException("Number of Frames must be greater than zero.");
    }

    private static List<SegmentDescription> ReadSegments(DicomDataset dataset)
    {
        var items = dataset.GetSequence(DicomTags.SegmentSequence)?.Items;
        if (items is null || items.Count == 0)
        {
            throw new SegmentationFormatException("The SEG has no Segment Sequence.");
        }
        var segments = new List<SegmentDescription>(items.Count);
        foreach (var item in items)
        {
            var number = item.GetUInt16(DicomTags.SegmentNumber) ?? throw new SegmentationFormatException("A segment has no Segment Number.");
            if (segments.Any(s => s.Number == number))
            {
                throw new SegmentationFormatException($"Segment Number {number} is defined twice.");
            }
            var lab = item.GetValues<ushort>(DicomTags.RecommendedDisplayCIELabValue);
            segments.Add(new SegmentDescription(
                number,
                item.GetString(DicomTags.SegmentLabel) ?? string.Empty,
                CodedConcept.FromSequence(item, DicomTags.SegmentedPropertyCategoryCodeSequence),
                CodedConcept.FromSequence(item, DicomTags.SegmentedPropertyTypeCodeSequence),
                item.GetString(DicomTags.SegmentAlgorithmType),
                item.GetString(DicomTags.SegmentAlgorithmName),
                lab.Length == 3 ? lab : null));
        }
        return segments;
    }

    /// <summary>The item of a functional group macro for one frame: per-frame first, then shared (PS3.3 C.7.6.16).</summary>
    private static DicomDataset? Group(DicomDataset? perFrame, DicomDataset? shared, DicomTag sequence) =>
        perFrame?.GetSequence(sequence)?.Items.FirstOrDefault() ?? shared?.GetSequence(sequence)?.Items.FirstOrDefault();

    private static double[]? Decimals(DicomDataset? item, DicomTag tag, int count, int frame)
    {
        if (item is null || !item.Contains(tag))
        {
            return null;
        }
        try
        {
            var values = item.GetDecimalStrings(tag);
            return values.Length == count && values.All(double.IsFinite) ? values
                : throw new SegmentationFormatException($"Frame {frame + 1}: {tag} has {values.Length} values, expected {count}.");
        }
        catch (FormatException)
        {
            throw new SegmentationFormatException($"Frame {frame + 1}: {tag} is not numeric.");
        }
    }
}
