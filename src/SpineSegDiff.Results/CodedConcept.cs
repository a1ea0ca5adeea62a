using SpineSegDiff.Dicom;

namespace SpineSegDiff.Results;

/// <summary>A coded entry (PS3.3 Table 8.8-1 Code Sequence Macro): value, coding scheme designator and meaning.</summary>
public sealed record CodedConcept(string Value, string Scheme, string Meaning)
{
    public DicomDataset ToItem()
    {
        var item = new DicomDataset();
        item.SetString(DicomTags.CodeValue, Value);
        item.SetString(DicomTags.CodingSchemeDesignator, Scheme);
        item.SetString(DicomTags.CodeMeaning, Meaning);
        return item;
    }

    /// <summary>The first item of a code sequence, or null when the sequence is absent or empty.</summary>
    public static CodedConcept? FromSequence(DicomDataset dataset, DicomTag sequenceTag)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var item = dataset.GetSequence(sequenceTag)?.Items.FirstOrDefault();
        if (item is null)
        {
            return null;
        }
        return new CodedConcept(
            item.GetString(DicomTags.CodeValue) ?? item.GetString(DicomTags.LongCodeValue) ?? item.GetString(DicomTags.URNCodeValue) ?? string.Empty,
            item.GetString(DicomTags.CodingSchemeDesignator) ?? string.Empty,
            item.GetString(DicomTags.CodeMeaning) ?? string.Empty);
    }

    public override string ToString() => $"({Value}, {Scheme}, \"{Meaning}\")";
}

/// <summary>The codes our results use (ARCHITECTURE.md section 4; SCT rather than the deprecated SRT designator).</summary>
public static class SpineCodes
{
    public static readonly CodedConcept AnatomicalStructure = new("91723000", "SCT", "Anatomical Structure");
    public static readonly CodedConcept SpinalCanal = new("61853006", "SCT", "Spinal canal");
    // The whole vertebra (label 2 covers body and posterior elements); Vertebral body 3572006 would be narrower.
    public static readonly CodedConcept Vertebra = new("51282000", "SCT", "Vertebra");
    public static readonly CodedConcept IntervertebralDisc = new("360499006", "SCT", "Intervertebral disc");
    public static readonly CodedConcept LumbarSpine = new("122496007", "SCT", "Lumbar spine");

    /// <summary>L1..L5, for the optional per-level segments.</summary>
    public static readonly IReadOnlyList<CodedConcept> LumbarVertebrae =
    [
        new("66794005", "SCT", "L1 vertebra"), new("14293000", "SCT", "L2 vertebra"), new("36470004", "SCT", "L3 vertebra"),
        new("11994002", "SCT", "L4 vertebra"), new("49668003", "SCT", "L5 vertebra"),
    ];

    /// <summary>L1/L2..L5/S1, for the optional per-level segments.</summary>
    public static readonly IReadOnlyList<CodedConcept> LumbarDiscs =
    [
        new("80064006", "SCT", "L1-L2 intervertebral disc"), new("67459009", "SCT", "L2-L3 intervertebral disc"),
        new("62551000", "SCT", "L3-L4 intervertebral disc"), new("84020006", "SCT", "L4-L5 intervertebral disc"),
        new("715056000", "SCT", "L5-S1 intervertebral disc"),
    ];

    /// <summary>CID 7162 Surface Processing Algorithm Families, used for the Algorithm Family Code Sequence.</summary>
    public static readonly CodedConcept ArtificialIntelligence = new("123109", "DCM", "Artificial Intelligence");

    /// <summary>CID 7203 Image Derivation.</summary>
    public static readonly CodedConcept Segmentation = new("113076", "DCM", "Segmentation");

    /// <summary>CID 7202 Source Image Purposes of Reference.</summary>
    public static readonly CodedConcept SourceImageForProcessing = new("121322", "DCM", "Source image for image processing operation");
}
