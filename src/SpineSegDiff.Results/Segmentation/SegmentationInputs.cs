using SpineSegDiff.Imaging;

namespace SpineSegDiff.Results.Segmentation;

/// <summary>
/// The algorithm that produced a segmentation: name and version go into Segment Algorithm Name and the
/// Segmentation Algorithm Identification Sequence (e.g. the model versions from the model cards).
/// </summary>
public sealed record SegmentationAlgorithm(string Name, string Version, string? Parameters = null)
{
    public const string SpineSegDiffName = "SpineSegDiff";

    public CodedConcept Family { get; init; } = SpineCodes.ArtificialIntelligence;

    /// <summary>
    /// Our pipeline. Algorithm Version (LO, 64 characters) holds the model versions in model-name order
    /// ("20261202-s3000-seed1 + 20261202-s2500-seed3"); Algorithm Parameters (LT) names which model is which and
    /// the inference profile, so a viewer shows exactly which weights made the result.
    /// </summary>
    public static SegmentationAlgorithm SpineSegDiff(IReadOnlyDictionary<string, string> modelVersions, string? profile)
    {
        ArgumentNullException.ThrowIfNull(modelVersions);
        if (modelVersions.Count == 0)
        {
            throw new ArgumentException("At least one model version is needed.", nameof(modelVersions));
        }
        var ordered = modelVersions.OrderBy(m => m.Key, StringComparer.Ordinal).ToList();
        var version = string.Join(" + ", ordered.Select(m => m.Value));
        var parameters = "models: " + string.Join(", ", ordered.Select(m => $"{m.Key} {m.Value}")) + (profile is null ? string.Empty : "; profile " + profile);
        return new SegmentationAlgorithm(SpineSegDiffName, version.Length <= 64 ? version : version[..64], parameters);
    }
}

/// <summary>One segment of our label convention and how it is described in the SEG.</summary>
public sealed record SpineSegment(byte Label, string SegmentLabel, CodedConcept Type, SrgbColor DisplayColor)
{
    public CodedConcept Category { get; init; } = SpineCodes.AnatomicalStructure;

    /// <summary>How the segment was derived, when more than its type and label says it (per-level segments).</summary>
    public string? Detail { get; init; }

    /// <summary>
    /// Label 1..3 become segments 1..3 in this order, always all three, so a segment number means the same
    /// structure in every SEG we write (the retraining service and viewers' colour choices rely on it).
    /// </summary>
    public static IReadOnlyList<SpineSegment> All { get; } =
    [
        new(LabelClasses.SpinalCanal, "Spinal canal", SpineCodes.SpinalCanal, new SrgbColor(0, 0, 255)),
        new(LabelClasses.Vertebra, "Vertebrae", SpineCodes.Vertebra, new SrgbColor(0, 255, 0)),
        new(LabelClasses.Disc, "Intervertebral discs", SpineCodes.IntervertebralDisc, new SrgbColor(255, 0, 0)),
    ];

    /// <summary>
    /// The single segment of the FRACTIONAL uncertainty SEG. PS3.16 has no concept for "model uncertainty" in
    /// CID 7150/7151 (nor in the DCM vocabulary we could check), and a private code would mean nothing to a viewer:
    /// the codes say which structure the map is about (the lumbar spine's segmented structures, category Anatomical
    /// Structure, type Lumbar spine) and the label and description say what the values are. Displayed in viridis's
    /// top colour, the colour the heatmap Secondary Capture uses for high uncertainty. Label 0: it is not a class of
    /// the label map.
    /// </summary>
    public static SpineSegment Uncertainty { get; } = new(0, "AI uncertainty", SpineCodes.LumbarSpine, new SrgbColor(253, 231, 37));

    /// <summary>Segment Description: what a reader of the SEG should take the segment to be.</summary>
    public string Description => (Label, Detail) switch
    {
        (0, _) => $"{SegmentLabel}: per-pixel uncertainty 0..1 of the automatic segmentation of the {Type.Meaning.ToLowerInvariant()} (not a probability of tissue; not for diagnosis)",
        (_, null) => $"{SegmentLabel} ({Type.Meaning}, label {Label})",
        (_, { } detail) => $"{SegmentLabel} ({Type.Meaning}; {detail})",
    };
}

/// <summary>Which source slices (indices in the series order along the slice normal) a SEG covers.</summary>
public sealed class SourceSliceSelection
{
    private readonly int[]? _indices;

    private SourceSliceSelection(int[]? indices, bool central)
    {
        _indices = indices;
        IsCentral = central;
    }

    /// <summary>The middle slice of the series order, index count / 2 (the paper's central sagittal slice for an odd count).</summary>
    public static SourceSliceSelection Central { get; } = new(null, true);

    /// <summary>Every slice of the series.</summary>
    public static SourceSliceSelection All { get; } = new(null, false);

    public bool IsCentral { get; }

    /// <summary>One slice by its index in the series order, e.g. the one the preprocessor chose (PreprocessedSlice.SliceIndex).</summary>
    public static SourceSliceSelection Single(int sliceIndex) => Of([sliceIndex]);

    /// <summary>Some slices by their indices in the series order (any order given; covered in series order, once each).</summary>
    public static SourceSliceSelection Of(IEnumerable<int> sliceIndices)
    {
        ArgumentNullException.ThrowIfNull(sliceIndices);
        var indices = sliceIndices.Distinct().Order().ToArray();
        if (indices.Length == 0)
        {
            throw new ArgumentException("At least one slice must be selected.", nameof(sliceIndices));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(indices[0], nameof(sliceIndices));
        return new SourceSliceSelection(indices, false);
    }

    public IReadOnlyList<int> Resolve(int sliceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sliceCount);
        if (_indices is { } indices)
        {
            if (indices[^1] >= sliceCount)
            {
                throw new ArgumentOutOfRangeException(nameof(sliceCount), $"Slice {indices[^1]} requested, the series has {sliceCount}.");
            }
            return indices;
        }
        return IsCentral ? [sliceCount / 2] : Enumerable.Range(0, sliceCount).ToArray();
    }

    public override string ToString() => _indices switch
    {
        [var i] => $"slice {i}",
        { } many => $"slices {string.Join(", ", many)}",
        null => IsCentral ? "central slice" : "all slices",
    };
}

/// <summary>Descriptive attributes of the SEG series and instance; defaults suit our automatic results.</summary>
public sealed record SegmentationWriterOptions
{
    public ResultEquipment Equipment { get; init; } = new();

    public string SeriesDescription { get; init; } = "AI segmentation - spinal canal, vertebrae, discs";

    public int SeriesNumber { get; init; } = 901;

    /// <summary>The FRACTIONAL uncertainty SEG is its own series, so a viewer lists it apart from the labels.</summary>
    public string UncertaintySeriesDescription { get; init; } = "AI uncertainty (fractional SEG) - not for diagnosis";

    public int UncertaintySeriesNumber { get; init; } = 902;

    public int InstanceNumber { get; init; } = 1;

    /// <summary>CS: upper case letters, digits, space and underscore, at most 16 characters.</summary>
    public string ContentLabel { get; init; } = "SPINESEG";

    public string UncertaintyContentLabel { get; init; } = "SPINESEG_UNCERT";

    public string ContentDescription { get; init; } = "Automatic lumbar spine segmentation (not for diagnosis)";

    /// <summary>LO: at most 64 characters.</summary>
    public string UncertaintyContentDescription { get; init; } = "AI segmentation uncertainty 0..1 (not for diagnosis)";

    public string ContentCreatorName { get; init; } = "SpineSegDiff^AI";

    /// <summary>
    /// One segment per lumbar level (L1..L5, L1-L2..L5-S1) instead of one per class, by the rule of
    /// <see cref="LumbarLevelLabeller"/>. Off by default: levels counted from the lowest disc are wrong for
    /// transitional vertebrae and for fields of view that miss the sacrum, and nothing here can tell.
    /// </summary>
    public bool PerLevelSegments { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
