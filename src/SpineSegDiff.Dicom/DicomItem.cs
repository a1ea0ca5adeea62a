namespace SpineSegDiff.Dicom;

/// <summary>An entry of a dataset: a value element, a sequence, or encapsulated pixel data fragments.</summary>
public abstract class DicomItem
{
    protected DicomItem(DicomTag tag, DicomVR vr)
    {
        Tag = tag;
        VR = vr;
    }

    public DicomTag Tag { get; }

    public DicomVR VR { get; }

    /// <summary>Deep comparison of tag, VR and content (bytes, items, fragments).</summary>
    public abstract bool ContentEquals(DicomItem other);

    public override string ToString() => $"{Tag} {VR.Code()}";
}

/// <summary>
/// An element with a value. The value is kept as the raw bytes in Little Endian byte order (Big Endian input is
/// swapped on reading), padded to even length, so re-encoding is lossless and strings are decoded only when asked.
/// </summary>
public sealed class DicomElement : DicomItem
{
    public DicomElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value) : base(tag, vr)
    {
        if (vr == DicomVR.SQ)
        {
            throw new ArgumentException("Use DicomSequence for SQ elements.", nameof(vr));
        }
        Value = value;
    }

    public ReadOnlyMemory<byte> Value { get; }

    public int Length => Value.Length;

    public override bool ContentEquals(DicomItem other) =>
        other is DicomElement e && e.Tag == Tag && e.VR == VR && e.Value.Span.SequenceEqual(Value.Span);
}

/// <summary>A sequence of items, each a nested dataset (PS3.5 section 7.5).</summary>
public sealed class DicomSequence : DicomItem
{
    public DicomSequence(DicomTag tag, IEnumerable<DicomDataset>? items = null) : base(tag, DicomVR.SQ)
    {
        Items = items is null ? [] : [.. items];
    }

    public List<DicomDataset> Items { get; }

    public override bool ContentEquals(DicomItem other)
    {
        if (other is not DicomSequence s || s.Tag != Tag || s.Items.Count != Items.Count)
        {
            return false;
        }
        for (var i = 0; i < Items.Count; i++)
        {
            if (!Items[i].ContentEquals(s.Items[i]))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>
/// Encapsulated pixel data (PS3.5 A.4): the Basic Offset Table and the fragments, kept exactly as received
/// because no codec is needed to store or forward them.
/// </summary>
public sealed class DicomFragmentSequence : DicomItem
{
    public DicomFragmentSequence(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> offsetTable, IEnumerable<ReadOnlyMemory<byte>> fragments)
        : base(tag, vr)
    {
        OffsetTable = offsetTable;
        Fragments = [.. fragments];
    }

    public ReadOnlyMemory<byte> OffsetTable { get; }

    public List<ReadOnlyMemory<byte>> Fragments { get; }

    public override bool ContentEquals(DicomItem other)
    {
        if (other is not DicomFragmentSequence f || f.Tag != Tag || f.VR != VR || f.Fragments.Count != Fragments.Count
            || !f.OffsetTable.Span.SequenceEqual(OffsetTable.Span))
        {
            return false;
        }
        for (var i = 0; i < Fragments.Count; i++)
        {
            if (!Fragments[i].Span.SequenceEqual(f.Fragments[i].Span))
            {
                return false;
            }
        }
        return true;
    }
}
