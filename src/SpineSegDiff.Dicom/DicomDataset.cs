using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace SpineSegDiff.Dicom;

/// <summary>
/// A DICOM dataset: elements kept in ascending tag order, as they must be encoded. Values are stored as raw
/// Little Endian bytes; the typed accessors decode and encode them with the VR's rules and the dataset's
/// Specific Character Set.
/// </summary>
public sealed class DicomDataset : IEnumerable<DicomItem>
{
    private readonly List<DicomItem> _items = [];
    private DicomCharacterSet _fallbackCharacterSet = DicomCharacterSet.Default;

    public DicomDataset()
    {
    }

    public DicomDataset(IEnumerable<DicomItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items)
        {
            Add(item);
        }
    }

    public int Count => _items.Count;

    /// <summary>
    /// The character set used when this dataset has no (0008,0005): the enclosing dataset's for sequence items
    /// (PS3.5 7.5.1), otherwise the configured default (PS3.5 says ISO_IR 6; fo-dicom #1705 shows real data needs a choice).
    /// </summary>
    public DicomCharacterSet FallbackCharacterSet
    {
        get => _fallbackCharacterSet;
        set => _fallbackCharacterSet = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The character set that governs SH, LO, ST, LT, PN, UC and UT values of this dataset.</summary>
    public DicomCharacterSet CharacterSet
    {
        get
        {
            if (TryGet(DicomTagsCore.SpecificCharacterSet, out var item) && item is DicomElement e && e.Length > 0)
            {
                var terms = SplitValues(DecodeAscii(e.Value.Span), DicomVR.CS);
                if (DicomCharacterSet.TryFromDefinedTerms(terms, out var cs))
                {
                    return cs;
                }
            }
            return _fallbackCharacterSet;
        }
    }

    public DicomItem this[DicomTag tag] => TryGet(tag, out var item) ? item : throw MissingElement(tag);

    public bool Contains(DicomTag tag) => IndexOf(tag) >= 0;

    public bool TryGet(DicomTag tag, out DicomItem item)
    {
        var index = IndexOf(tag);
        item = index >= 0 ? _items[index] : null!;
        return index >= 0;
    }

    /// <summary>Adds an item, replacing any item with the same tag.</summary>
    public DicomDataset Add(DicomItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        // Appending in order is the common case when decoding; check it before the binary search.
        if (_items.Count == 0 || _items[^1].Tag < item.Tag)
        {
            _items.Add(item);
        }
        else
        {
            var index = IndexOf(item.Tag);
            if (index >= 0)
            {
                _items[index] = item;
            }
            else
            {
                _items.Insert(~index, item);
            }
        }
        if (item is DicomSequence sequence)
        {
            foreach (var child in sequence.Items)
            {
                child.FallbackCharacterSet = CharacterSet;
            }
        }
        return this;
    }

    public bool Remove(DicomTag tag)
    {
        var index = IndexOf(tag);
        if (index < 0)
        {
            return false;
        }
        _items.RemoveAt(index);
        return true;
    }

    /// <summary>Removes every element whose tag falls in [first, last].</summary>
    public void RemoveRange(DicomTag first, DicomTag last) => _items.RemoveAll(i => i.Tag >= first && i.Tag <= last);

    public IEnumerator<DicomItem> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A deep copy: values are immutable memory, so only the structure is copied.</summary>
    public DicomDataset Clone()
    {
        var copy = new DicomDataset { FallbackCharacterSet = FallbackCharacterSet };
        foreach (var item in _items)
        {
            copy._items.Add(item is DicomSequence s ? new DicomSequence(s.Tag, s.Items.Select(i => i.Clone())) : item);
        }
        return copy;
    }

    /// <summary>Deep, order-sensitive comparison of every element's tag, VR and bytes.</summary>
    public bool ContentEquals(DicomDataset other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._items.Count != _items.Count)
        {
            return false;
        }
        for (var i = 0; i < _items.Count; i++)
        {
            if (!_items[i].ContentEquals(other._items[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The first difference between two datasets, for test and log messages; null when equal.</summary>
    public string? FirstDifference(DicomDataset other, string path = "")
    {
        ArgumentNullException.ThrowIfNull(other);
        var tags = _items.Select(i => i.Tag).Union(other._items.Select(i => i.Tag)).Order();
        foreach (var tag in tags)
        {
            var here = TryGet(tag, out var a);
            var there = other.TryGet(tag, out var b);
            if (!here || !there)
            {
                return $"{path}{tag} only in the {(here ? "first" : "second")} dataset";
            }
            if (a is DicomSequence sa && b is DicomSequence sb)
            {
                if (sa.Items.Count != sb.Items.Count)
                {
                    return $"{path}{tag} has {sa.Items.Count} vs {sb.Items.Count} items";
                }
                for (var i = 0; i < sa.Items.Count; i++)
                {
                    var inner = sa.Items[i].FirstDifference(sb.Items[i], $"{path}{tag}[{i}].");
                    if (inner is not null)
                    {
                        return inner;
                    }
                }
            }
            else if (!a.ContentEquals(b))
            {
                return $"{path}{tag} differs ({a.VR.Code()} vs {b.VR.Code()})";
            }
        }
        return null;
    }

    // ----- Strings --------------------------------------------------------------------------------------------

    /// <summary>The whole value as text (all values joined by backslashes), trailing padding removed; null when absent.</summary>
    public string? GetString(DicomTag tag)
    {
        if (!TryGet(tag, out var item))
        {
            return null;
        }
        if (item is not DicomElement e)
        {
            throw new InvalidOperationException($"{tag} is a {item.VR.Code()} sequence, not a value.");
        }
        return TrimValue(Decode(e), e.VR, trimLeading: false);
    }

    /// <summary>The values of a multi-valued string element, each trimmed as its VR allows; empty when absent.</summary>
    public string[] GetStrings(DicomTag tag)
    {
        var text = GetString(tag);
        return text is null ? [] : SplitValues(text, this[tag].VR);
    }

    /// <summary>One value of a string element, or null when absent or when there are fewer values.</summary>
    public string? GetString(DicomTag tag, int index)
    {
        var values = GetStrings(tag);
        return index < values.Length ? values[index] : null;
    }

    /// <summary>Sets string values, validated against the VR's rules and encoded in the dataset's character set.</summary>
    public DicomDataset SetString(DicomTag tag, DicomVR vr, params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!vr.IsString())
        {
            throw new ArgumentException($"{tag}: {vr.Code()} is not a string VR.", nameof(vr));
        }
        if (vr.IsSingleValuedText() && values.Length > 1)
        {
            throw new ArgumentException($"{tag}: {vr.Code()} holds a single value.", nameof(values));
        }
        var characterSet = tag == DicomTagsCore.SpecificCharacterSet ? DicomCharacterSet.Default : CharacterSet;
        foreach (var value in values)
        {
            DicomValueRules.Validate(tag, vr, value, characterSet);
        }
        var joined = string.Join('\\', values);
        if (tag == DicomTagsCore.SpecificCharacterSet)
        {
            if (!DicomCharacterSet.TryFromDefinedTerms(values, out var newSet))
            {
                throw new ArgumentException($"Unsupported Specific Character Set '{joined}'.", nameof(values));
            }
            var oldSet = CharacterSet;
            Add(new DicomElement(tag, vr, Pad(Encoding.ASCII.GetBytes(joined), vr)));
            Transcode(oldSet, newSet);
            return this;
        }
        var encoding = vr.UsesSpecificCharacterSet() ? characterSet.Encoding : Encoding.ASCII;
        Add(new DicomElement(tag, vr, Pad(encoding.GetBytes(joined), vr)));
        return this;
    }

    /// <summary>Sets string values with the VR from the data dictionary.</summary>
    public DicomDataset SetString(DicomTag tag, params string[] values) => SetString(tag, DictionaryVR(tag), values);

    public DicomDataset SetDate(DicomTag tag, DateOnly value) => SetString(tag, DicomVR.DA, DicomValueRules.FormatDate(value));

    public DicomDataset SetTime(DicomTag tag, TimeOnly value) => SetString(tag, DicomVR.TM, DicomValueRules.FormatTime(value));

    public DicomDataset SetDateTime(DicomTag tag, DateTime value) => SetString(tag, DicomVR.DT, DicomValueRules.FormatDateTime(value));

    public DicomDataset SetIntegerString(DicomTag tag, params int[] values) =>
        SetString(tag, DicomVR.IS, values.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray());

    public DicomDataset SetDecimalString(DicomTag tag, params double[] values) =>
        SetString(tag, DicomVR.DS, values.Select(DicomValueRules.FormatDecimal).ToArray());

    public DateOnly? GetDate(DicomTag tag) =>
        GetString(tag) is { Length: > 0 } s && DicomValueRules.TryParseDate(s, out var d) ? d : null;

    public TimeOnly? GetTime(DicomTag tag) =>
        GetString(tag) is { Length: > 0 } s && DicomValueRules.TryParseTime(s, out var t) ? t : null;

    public DateTime? GetDateTime(DicomTag tag) =>
        GetString(tag) is { Length: > 0 } s && DicomValueRules.TryParseDateTime(s, out var t) ? t : null;

    /// <summary>IS values; throws <see cref="FormatException"/> for a value that is not an integer.</summary>
    public int[] GetIntegerStrings(DicomTag tag) =>
        GetStrings(tag).Select(s => int.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>DS values; throws <see cref="FormatException"/> for a value that is not a decimal.</summary>
    public double[] GetDecimalStrings(DicomTag tag) =>
        GetStrings(tag).Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();

    // ----- Binary values --------------------------------------------------------------------------------------

    /// <summary>Sets binary values (US, SS, UL, SL, FL, FD, SV, UV, OW, OF, OD, OL, OV, AT as uint pairs).</summary>
    public DicomDataset SetValues<T>(DicomTag tag, DicomVR vr, params T[] values) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(values);
        var size = Marshal.SizeOf<T>();
        if (vr.ValueSize() != 0 && vr != DicomVR.AT && size != vr.ValueSize())
        {
            throw new ArgumentException($"{tag}: {typeof(T).Name} does not match {vr.Code()}.", nameof(values));
        }
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            ByteSwap.InPlace(bytes, size);
        }
        Add(new DicomElement(tag, vr, Pad(bytes, vr)));
        return this;
    }

    public DicomDataset SetUInt16(DicomTag tag, params ushort[] values) => SetValues(tag, DicomVR.US, values);

    public DicomDataset SetUInt32(DicomTag tag, params uint[] values) => SetValues(tag, DicomVR.UL, values);

    public DicomDataset SetInt16(DicomTag tag, params short[] values) => SetValues(tag, DicomVR.SS, values);

    public DicomDataset SetInt32(DicomTag tag, params int[] values) => SetValues(tag, DicomVR.SL, values);

    public DicomDataset SetSingle(DicomTag tag, params float[] values) => SetValues(tag, DicomVR.FL, values);

    public DicomDataset SetDouble(DicomTag tag, params double[] values) => SetValues(tag, DicomVR.FD, values);

    /// <summary>Sets an attribute tag (AT) list.</summary>
    public DicomDataset SetTags(DicomTag tag, params DicomTag[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 4), values[i].Group);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 4 + 2), values[i].Element);
        }
        Add(new DicomElement(tag, DicomVR.AT, bytes));
        return this;
    }

    /// <summary>Sets raw bytes (OB, OW, UN, ...), padding an odd length with the VR's padding byte.</summary>
    public DicomDataset SetBytes(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value)
    {
        Add(new DicomElement(tag, vr, value.Length % 2 == 0 ? value : Pad(value.ToArray(), vr)));
        return this;
    }

    /// <summary>All values of a binary element, decoded as <typeparamref name="T"/>; empty when absent.</summary>
    public T[] GetValues<T>(DicomTag tag) where T : unmanaged
    {
        if (!TryGet(tag, out var item))
        {
            return [];
        }
        if (item is not DicomElement e)
        {
            throw new InvalidOperationException($"{tag} is not a value element.");
        }
        var size = Marshal.SizeOf<T>();
        var count = e.Length / size;
        var result = MemoryMarshal.Cast<byte, T>(e.Value.Span[..(count * size)]).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            ByteSwap.InPlace(MemoryMarshal.AsBytes(result.AsSpan()), size);
        }
        return result;
    }

    public ushort? GetUInt16(DicomTag tag, int index = 0) => ValueAt(GetValues<ushort>(tag), index);

    public uint? GetUInt32(DicomTag tag, int index = 0) => ValueAt(GetValues<uint>(tag), index);

    public short? GetInt16(DicomTag tag, int index = 0) => ValueAt(GetValues<short>(tag), index);

    public int? GetInt32(DicomTag tag, int index = 0) => ValueAt(GetValues<int>(tag), index);

    public float? GetSingle(DicomTag tag, int index = 0) => ValueAt(GetValues<float>(tag), index);

    public double? GetDouble(DicomTag tag, int index = 0) => ValueAt(GetValues<double>(tag), index);

    public DicomTag[] GetTags(DicomTag tag) =>
        GetValues<ushort>(tag).Chunk(2).Where(p => p.Length == 2).Select(p => new DicomTag(p[0], p[1])).ToArray();

    /// <summary>The raw value bytes of an element (Little Endian), or empty when absent.</summary>
    public ReadOnlyMemory<byte> GetBytes(DicomTag tag) =>
        TryGet(tag, out var item) && item is DicomElement e ? e.Value : ReadOnlyMemory<byte>.Empty;

    // ----- Sequences -------------------------------------------------------------------------------------------

    public DicomSequence? GetSequence(DicomTag tag) => TryGet(tag, out var item) ? item as DicomSequence : null;

    public DicomDataset SetSequence(DicomTag tag, params DicomDataset[] items)
    {
        Add(new DicomSequence(tag, items));
        return this;
    }

    // ----- Helpers ---------------------------------------------------------------------------------------------

    private int IndexOf(DicomTag tag)
    {
        int lo = 0, hi = _items.Count - 1;
        var key = tag.Value;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var v = _items[mid].Tag.Value;
            if (v == key)
            {
                return mid;
            }
            if (v < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return ~lo;
    }

    private string Decode(DicomElement e) =>
        e.VR.UsesSpecificCharacterSet() ? CharacterSet.Encoding.GetString(e.Value.Span) : DecodeAscii(e.Value.Span);

    private static string DecodeAscii(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private static string TrimValue(string text, DicomVR vr, bool trimLeading)
    {
        var trimmed = text.TrimEnd('\0', ' ');
        return trimLeading && !vr.IsSingleValuedText() ? trimmed.TrimStart(' ') : trimmed;
    }

    private static string[] SplitValues(string text, DicomVR vr)
    {
        if (vr.IsSingleValuedText())
        {
            return [text];
        }
        return text.Split('\\').Select(v => TrimValue(v, vr, trimLeading: true)).ToArray();
    }

    private static ReadOnlyMemory<byte> Pad(byte[] bytes, DicomVR vr)
    {
        if (bytes.Length % 2 == 0)
        {
            return bytes;
        }
        var padded = new byte[bytes.Length + 1];
        bytes.CopyTo(padded, 0);
        padded[^1] = vr.PaddingByte();
        return padded;
    }

    private static T? ValueAt<T>(T[] values, int index) where T : struct => index < values.Length ? values[index] : null;

    private static DicomVR DictionaryVR(DicomTag tag)
    {
        var vr = DicomDictionary.Find(tag)?.DefaultVR ?? DicomVR.UN;
        if (vr == DicomVR.UN)
        {
            throw new ArgumentException($"{tag} is not in the data dictionary: give its VR.", nameof(tag));
        }
        return vr;
    }

    private static KeyNotFoundException MissingElement(DicomTag tag)
    {
        var keyword = DicomDictionary.Find(tag)?.Keyword;
        return new KeyNotFoundException($"The dataset has no {tag}{(keyword is null ? string.Empty : " " + keyword)}.");
    }

    /// <summary>Re-encodes character-set dependent values after (0008,0005) changed, so existing text stays the same text.</summary>
    private void Transcode(DicomCharacterSet from, DicomCharacterSet to)
    {
        if (from.Encoding.CodePage == to.Encoding.CodePage)
        {
            return;
        }
        for (var i = 0; i < _items.Count; i++)
        {
            switch (_items[i])
            {
                case DicomElement e when e.VR.UsesSpecificCharacterSet():
                    var text = from.Encoding.GetString(e.Value.Span);
                    if (!to.CanEncode(text.TrimEnd(' ')))
                    {
                        throw new ArgumentException($"{e.Tag} cannot be represented in {to}.");
                    }
                    _items[i] = new DicomElement(e.Tag, e.VR, Pad(to.Encoding.GetBytes(text.TrimEnd(' ')), e.VR));
                    break;
                case DicomSequence s:
                    foreach (var child in s.Items.Where(c => !c.Contains(DicomTagsCore.SpecificCharacterSet)))
                    {
                        child.Transcode(from, to);
                        child.FallbackCharacterSet = to;
                    }
                    break;
            }
        }
    }
}

/// <summary>Byte swapping for Big Endian input and big-endian hosts.</summary>
internal static class ByteSwap
{
    public static void InPlace(Span<byte> bytes, int size)
    {
        if (size <= 1)
        {
            return;
        }
        for (var i = 0; i + size <= bytes.Length; i += size)
        {
            bytes.Slice(i, size).Reverse();
        }
    }
}
