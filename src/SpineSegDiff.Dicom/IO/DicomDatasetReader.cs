namespace SpineSegDiff.Dicom.IO;

/// <summary>
/// Decodes a dataset in any native transfer syntax (PS3.5 sections 7 and A). Every malformation becomes a
/// <see cref="DicomFormatException"/> naming the offset and tag; nothing is allocated from a declared length that
/// the input cannot back.
/// </summary>
public sealed class DicomDatasetReader
{
    private const uint UndefinedLength = 0xFFFFFFFF;
    private readonly ByteSource _source;
    private readonly DicomReadOptions _options;

    private DicomDatasetReader(ByteSource source, DicomReadOptions options)
    {
        _source = source;
        _options = options;
    }

    /// <summary>True when decoding ended at <see cref="DicomReadOptions.StopBeforeTag"/> rather than at the end of input.</summary>
    public bool Stopped { get; private set; }

    /// <summary>
    /// Reads a dataset to the end of <paramref name="stream"/> (or up to the stop tag). <paramref name="startOffset"/>
    /// is added to reported offsets, so errors name file offsets when the stream starts after a meta header.
    /// </summary>
    public static DicomDataset Read(Stream stream, DicomTransferSyntax syntax, DicomReadOptions? options = null, long startOffset = 0) =>
        Read(stream, syntax, options, startOffset, out _);

    public static DicomDataset Read(Stream stream, DicomTransferSyntax syntax, DicomReadOptions? options, long startOffset, out bool stopped)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(syntax);
        var reader = new DicomDatasetReader(new ByteSource(stream, startOffset), options ?? DicomReadOptions.Default);
        var dataset = new DicomDataset { FallbackCharacterSet = reader._options.DefaultCharacterSet };
        reader.ReadElements(dataset, syntax.IsExplicitVR, syntax.IsLittleEndian, -1, 0, topLevel: true);
        stopped = reader.Stopped;
        return dataset;
    }

    /// <summary>
    /// Reads the File Meta Information group (always Explicit VR Little Endian, PS3.10 7.1). Its group length says
    /// where it ends; files without one are accepted only from seekable streams, where we can peek at each tag.
    /// </summary>
    internal static DicomDataset ReadMetaGroup(Stream stream, long startOffset, DicomReadOptions options, out long endOffset)
    {
        var reader = new DicomDatasetReader(new ByteSource(stream, startOffset), options);
        var source = reader._source;
        var meta = new DicomDataset();
        var first = reader.ReadItem(meta, explicitVR: true, littleEndian: true, depth: 0, topLevel: false);
        if (first is null || first.Tag.Group != 0x0002)
        {
            throw new DicomFormatException("File Meta Information is missing", startOffset, first?.Tag);
        }
        meta.Add(first);
        if (first.Tag == DicomTagsCore.FileMetaInformationGroupLength && first is DicomElement { Length: 4 } groupLength)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(groupLength.Value.Span);
            if (source.Remaining >= 0 && length > source.Remaining)
            {
                throw new DicomFormatException($"File Meta Information group length {length} exceeds the {source.Remaining} bytes left", source.Position, first.Tag);
            }
            reader.ReadElements(meta, explicitVR: true, littleEndian: true, source.Position + length, 0, topLevel: false);
        }
        else
        {
            if (!stream.CanSeek)
            {
                throw new DicomFormatException("File Meta Information without a group length on a stream that cannot seek", source.Position);
            }
            Span<byte> two = stackalloc byte[2];
            while (true)
            {
                var at = stream.Position;
                if (stream.ReadAtLeast(two, 2, throwOnEndOfStream: false) < 2)
                {
                    throw new DicomFormatException("File ends inside the File Meta Information", source.Position);
                }
                stream.Position = at;
                if ((two[0] | (two[1] << 8)) != 0x0002)
                {
                    break;
                }
                var item = reader.ReadItem(meta, explicitVR: true, littleEndian: true, depth: 0, topLevel: false)
                    ?? throw new DicomFormatException("Item Delimitation Item in the File Meta Information", source.Position);
                meta.Add(item);
            }
        }
        var stray = meta.FirstOrDefault(i => i.Tag.Group != 0x0002);
        if (stray is not null)
        {
            throw new DicomFormatException("File Meta Information group length covers elements outside group 0002", source.Position, stray.Tag);
        }
        endOffset = source.Position;
        return meta;
    }

    /// <summary>
    /// Reads elements into <paramref name="dataset"/> until <paramref name="end"/> (defined length), an Item
    /// Delimitation Item (undefined-length item, end = -1 and not top level) or the end of input (top level).
    /// </summary>
    private void ReadElements(DicomDataset dataset, bool explicitVR, bool littleEndian, long end, int depth, bool topLevel)
    {
        while (true)
        {
            if (end >= 0)
            {
                if (_source.Position == end)
                {
                    return;
                }
                if (_source.Position > end)
                {
                    throw new DicomFormatException($"Element overruns its item, which ends at byte {end}", _source.Position);
                }
            }
            else if (topLevel && _source.AtEnd)
            {
                return;
            }
            if (topLevel && _options.StopBeforeTag is { } stop && PeekTagAtOrAfter(stop, littleEndian))
            {
                Stopped = true;
                return;
            }
            var item = ReadItem(dataset, explicitVR, littleEndian, depth, topLevel);
            if (item is null)
            {
                if (end >= 0 || topLevel)
                {
                    throw new DicomFormatException("Item Delimitation Item outside an undefined-length item", _source.Position - 8);
                }
                return; // end of an undefined-length item
            }
            // Group lengths other than the command and meta groups are retired (PS3.5 7.2) and would be wrong after
            // any edit; they are dropped on reading so what we re-encode is always consistent.
            if (item.Tag.IsGroupLength && item.Tag.Group > 0x0002)
            {
                continue;
            }
            dataset.Add(item);
        }
    }

    private readonly byte[] _peekTag = new byte[4];
    private bool _havePeekedTag;

    private bool PeekTagAtOrAfter(DicomTag stop, bool littleEndian)
    {
        if (!_havePeekedTag)
        {
            _source.ReadExactly(_peekTag, null);
            _havePeekedTag = true;
        }
        var tag = DecodeTag(_peekTag, littleEndian);
        return tag >= stop && tag.Group != 0xFFFE;
    }

    private static DicomTag DecodeTag(ReadOnlySpan<byte> b, bool littleEndian) => littleEndian
        ? new DicomTag((ushort)(b[0] | (b[1] << 8)), (ushort)(b[2] | (b[3] << 8)))
        : new DicomTag((ushort)((b[0] << 8) | b[1]), (ushort)((b[2] << 8) | b[3]));

    private DicomTag ReadTag(bool littleEndian)
    {
        if (_havePeekedTag)
        {
            _havePeekedTag = false;
            return DecodeTag(_peekTag, littleEndian);
        }
        Span<byte> b = stackalloc byte[4];
        _source.ReadExactly(b, null);
        return DecodeTag(b, littleEndian);
    }

    /// <summary>Reads one element; returns null for an Item Delimitation Item.</summary>
    private DicomItem? ReadItem(DicomDataset parent, bool explicitVR, bool littleEndian, int depth, bool topLevel)
    {
        var elementStart = _source.Position - (_havePeekedTag ? 4 : 0);
        var tag = ReadTag(littleEndian);
        if (tag == DicomTag.ItemDelimitationItem)
        {
            _source.ReadUInt32(littleEndian, tag);
            return null;
        }
        if (tag.Group == 0xFFFE)
        {
            throw new DicomFormatException("Item or delimiter tag where a data element was expected", elementStart, tag);
        }
        DicomVR vr;
        uint length;
        if (explicitVR)
        {
            Span<byte> vrBytes = stackalloc byte[2];
            _source.ReadExactly(vrBytes, tag);
            if (!DicomVRInfo.TryParse(vrBytes[0], vrBytes[1], out vr))
            {
                throw new DicomFormatException($"Invalid VR bytes 0x{vrBytes[0]:X2}{vrBytes[1]:X2}", elementStart + 4, tag);
            }
            if (vr.HasLongLength())
            {
                _source.ReadUInt16(littleEndian, tag); // reserved
                length = _source.ReadUInt32(littleEndian, tag);
            }
            else
            {
                length = _source.ReadUInt16(littleEndian, tag);
            }
        }
        else
        {
            vr = ImplicitVR(tag);
            length = _source.ReadUInt32(littleEndian, tag);
        }

        if (vr == DicomVR.SQ || (length == UndefinedLength && vr == DicomVR.UN) || (!explicitVR && length == UndefinedLength && tag != DicomTagsCore.PixelData))
        {
            // An undefined-length UN is a sequence whose items are Implicit VR Little Endian (PS3.5 6.2.2 note 4).
            var itemsExplicit = explicitVR && vr != DicomVR.UN;
            var itemsLittleEndian = littleEndian || vr == DicomVR.UN;
            return ReadSequence(parent, tag, length, itemsExplicit, itemsLittleEndian, depth + 1);
        }
        if (length == UndefinedLength)
        {
            if (tag == DicomTagsCore.PixelData && topLevel)
            {
                return ReadFragments(tag, vr, littleEndian);
            }
            throw new DicomFormatException("Undefined length on an element that is neither a sequence nor pixel data", elementStart, tag);
        }
        var value = _source.ReadBytes(length, _options.MaxValueLength, tag);
        if (!littleEndian)
        {
            ByteSwap.InPlace(value, vr.ValueSize());
        }
        return new DicomElement(tag, vr, value);
    }

    private DicomVR ImplicitVR(DicomTag tag)
    {
        // In Implicit VR Little Endian Pixel Data is always OW (PS3.5 A.1) and unknown tags are UN.
        if (tag == DicomTagsCore.PixelData)
        {
            return DicomVR.OW;
        }
        if (tag.IsPrivateCreator)
        {
            return DicomVR.LO;
        }
        if (tag.IsGroupLength)
        {
            return DicomVR.UL;
        }
        return DicomDictionary.ImplicitVR(tag);
    }

    private DicomSequence ReadSequence(DicomDataset parent, DicomTag tag, uint length, bool explicitVR, bool littleEndian, int depth)
    {
        if (depth > _options.MaxSequenceDepth)
        {
            throw new DicomFormatException($"Sequences nested deeper than {_options.MaxSequenceDepth} levels", _source.Position, tag);
        }
        var sequence = new DicomSequence(tag);
        long end = -1;
        if (length != UndefinedLength)
        {
            if (_source.Remaining >= 0 && length > _source.Remaining)
            {
                throw new DicomFormatException($"Sequence length {length} exceeds the {_source.Remaining} bytes left", _source.Position, tag);
            }
            end = _source.Position + length;
        }
        while (true)
        {
            if (end >= 0 && _source.Position >= end)
            {
                if (_source.Position > end)
                {
                    throw new DicomFormatException("Item overruns its sequence", _source.Position, tag);
                }
                break;
            }
            var itemStart = _source.Position;
            var itemTag = ReadTag(littleEndian);
            var itemLength = _source.ReadUInt32(littleEndian, tag);
            if (itemTag == DicomTag.SequenceDelimitationItem)
            {
                if (end >= 0)
                {
                    throw new DicomFormatException("Sequence Delimitation Item in a defined-length sequence", itemStart, tag);
                }
                break;
            }
            if (itemTag != DicomTag.Item)
            {
                throw new DicomFormatException($"Expected an Item tag in the sequence, found {itemTag}", itemStart, tag);
            }
            var item = new DicomDataset { FallbackCharacterSet = parent.CharacterSet };
            long itemEnd = -1;
            if (itemLength != UndefinedLength)
            {
                if (_source.Remaining >= 0 && itemLength > _source.Remaining)
                {
                    throw new DicomFormatException($"Item length {itemLength} exceeds the {_source.Remaining} bytes left", itemStart, tag);
                }
                itemEnd = _source.Position + itemLength;
            }
            ReadElements(item, explicitVR, littleEndian, itemEnd, depth, topLevel: false);
            sequence.Items.Add(item);
        }
        return sequence;
    }

    private DicomFragmentSequence ReadFragments(DicomTag tag, DicomVR vr, bool littleEndian)
    {
        ReadOnlyMemory<byte>? offsetTable = null;
        var fragments = new List<ReadOnlyMemory<byte>>();
        while (true)
        {
            var itemStart = _source.Position;
            var itemTag = ReadTag(littleEndian);
            var itemLength = _source.ReadUInt32(littleEndian, tag);
            if (itemTag == DicomTag.SequenceDelimitationItem)
            {
                break;
            }
            if (itemTag != DicomTag.Item || itemLength == UndefinedLength)
            {
                throw new DicomFormatException($"Malformed pixel data fragment (tag {itemTag}, length {itemLength})", itemStart, tag);
            }
            var bytes = _source.ReadBytes(itemLength, _options.MaxValueLength, tag);
            if (offsetTable is null)
            {
                offsetTable = bytes;
            }
            else
            {
                fragments.Add(bytes);
            }
        }
        if (offsetTable is null)
        {
            throw new DicomFormatException("Encapsulated pixel data without a Basic Offset Table item", _source.Position, tag);
        }
        return new DicomFragmentSequence(tag, vr, offsetTable.Value, fragments);
    }
}
