using System.Buffers.Binary;
using System.Text;
using SpineSegDiff.Dicom.IO;

namespace SpineSegDiff.Dicom.Network;

/// <summary>Command Field values (PS3.7 section E.1) for the services this node implements.</summary>
public enum DimseCommandField : ushort
{
    CStoreRequest = 0x0001,
    CStoreResponse = 0x8001,
    CGetRequest = 0x0010,
    CFindRequest = 0x0020,
    CMoveRequest = 0x0021,
    CEchoRequest = 0x0030,
    CEchoResponse = 0x8030,
    CCancelRequest = 0x0FFF,
}

/// <summary>Priority of a C-STORE (PS3.7 9.1.1.1).</summary>
public enum DimsePriority : ushort
{
    Medium = 0x0000,
    High = 0x0001,
    Low = 0x0002,
}

/// <summary>
/// A DIMSE command set (group 0000, PS3.7 section 9.3 and annex E). It is always encoded Implicit VR Little Endian
/// with Command Group Length first, whatever transfer syntax the presentation context negotiated.
/// </summary>
public sealed class DimseCommand
{
    /// <summary>Command Data Set Type value that means "no data set follows" (PS3.7 E.1).</summary>
    public const ushort NoDataSet = 0x0101;

    /// <summary>Any other value means a data set follows; 0x0000 is what most implementations send.</summary>
    public const ushort DataSetPresent = 0x0000;

    // Tags of group 0000 (PS3.7 E.1), kept here so the codec does not depend on the generated dictionary.
    internal static readonly DicomTag CommandGroupLength = new(0x0000, 0x0000);
    internal static readonly DicomTag AffectedSopClassUidTag = new(0x0000, 0x0002);
    internal static readonly DicomTag CommandFieldTag = new(0x0000, 0x0100);
    internal static readonly DicomTag MessageIdTag = new(0x0000, 0x0110);
    internal static readonly DicomTag MessageIdBeingRespondedToTag = new(0x0000, 0x0120);
    internal static readonly DicomTag PriorityTag = new(0x0000, 0x0700);
    internal static readonly DicomTag CommandDataSetTypeTag = new(0x0000, 0x0800);
    internal static readonly DicomTag StatusTag = new(0x0000, 0x0900);
    internal static readonly DicomTag ErrorCommentTag = new(0x0000, 0x0902);
    internal static readonly DicomTag AffectedSopInstanceUidTag = new(0x0000, 0x1000);
    internal static readonly DicomTag MoveOriginatorAeTitleTag = new(0x0000, 0x1030);
    internal static readonly DicomTag MoveOriginatorMessageIdTag = new(0x0000, 0x1031);

    /// <summary>Largest command set accepted from a peer: real ones are a few hundred bytes.</summary>
    public const int MaxEncodedLength = 64 * 1024;

    private DimseCommand(DicomDataset dataset)
    {
        Dataset = dataset;
    }

    /// <summary>The command elements (without Command Group Length, which is computed on encoding).</summary>
    public DicomDataset Dataset { get; }

    public DimseCommandField CommandField => (DimseCommandField)(Dataset.GetUInt16(CommandFieldTag) ?? 0);

    public bool IsResponse => ((ushort)CommandField & 0x8000) != 0;

    public ushort? MessageId => Dataset.GetUInt16(MessageIdTag);

    public ushort? MessageIdBeingRespondedTo => Dataset.GetUInt16(MessageIdBeingRespondedToTag);

    public string? AffectedSopClassUid => NullIfEmpty(Dataset.GetString(AffectedSopClassUidTag));

    public string? AffectedSopInstanceUid => NullIfEmpty(Dataset.GetString(AffectedSopInstanceUidTag));

    public DimsePriority Priority => (DimsePriority)(Dataset.GetUInt16(PriorityTag) ?? 0);

    public ushort CommandDataSetType => Dataset.GetUInt16(CommandDataSetTypeTag) ?? NoDataSet;

    public bool HasDataSet => CommandDataSetType != NoDataSet;

    public ushort? Status => Dataset.GetUInt16(StatusTag);

    public string? ErrorComment => NullIfEmpty(Dataset.GetString(ErrorCommentTag));

    public string? MoveOriginatorAeTitle => NullIfEmpty(Dataset.GetString(MoveOriginatorAeTitleTag)?.Trim());

    public ushort? MoveOriginatorMessageId => Dataset.GetUInt16(MoveOriginatorMessageIdTag);

    public static DimseCommand CreateEchoRequest(ushort messageId) => new(new DicomDataset()
        .SetUInt16(CommandFieldTag, (ushort)DimseCommandField.CEchoRequest)
        .SetUInt16(MessageIdTag, messageId)
        .SetUInt16(CommandDataSetTypeTag, NoDataSet)
        .Add(Ui(AffectedSopClassUidTag, DicomUids.Verification)));

    public static DimseCommand CreateEchoResponse(ushort messageIdBeingRespondedTo, ushort status) =>
        CreateResponse(DimseCommandField.CEchoResponse, messageIdBeingRespondedTo, DicomUids.Verification, null, status, null);

    public static DimseCommand CreateStoreRequest(ushort messageId, string sopClassUid, string sopInstanceUid,
        DimsePriority priority = DimsePriority.Medium, string? moveOriginatorAeTitle = null, ushort? moveOriginatorMessageId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(sopClassUid);
        ArgumentException.ThrowIfNullOrEmpty(sopInstanceUid);
        var dataset = new DicomDataset()
            .Add(Ui(AffectedSopClassUidTag, sopClassUid))
            .SetUInt16(CommandFieldTag, (ushort)DimseCommandField.CStoreRequest)
            .SetUInt16(MessageIdTag, messageId)
            .SetUInt16(PriorityTag, (ushort)priority)
            .SetUInt16(CommandDataSetTypeTag, DataSetPresent)
            .Add(Ui(AffectedSopInstanceUidTag, sopInstanceUid));
        if (!string.IsNullOrWhiteSpace(moveOriginatorAeTitle))
        {
            dataset.Add(new DicomElement(MoveOriginatorAeTitleTag, DicomVR.AE, Pad(Encoding.ASCII.GetBytes(moveOriginatorAeTitle.Trim()), (byte)' ')));
        }
        if (moveOriginatorMessageId is { } originatorId)
        {
            dataset.SetUInt16(MoveOriginatorMessageIdTag, originatorId);
        }
        return new DimseCommand(dataset);
    }

    public static DimseCommand CreateStoreResponse(ushort messageIdBeingRespondedTo, string? sopClassUid, string? sopInstanceUid, ushort status, string? errorComment = null) =>
        CreateResponse(DimseCommandField.CStoreResponse, messageIdBeingRespondedTo, sopClassUid, sopInstanceUid, status, errorComment);

    /// <summary>A response to any request: command field with bit 15 set, no data set.</summary>
    public static DimseCommand CreateResponse(DimseCommandField field, ushort messageIdBeingRespondedTo, string? sopClassUid,
        string? sopInstanceUid, ushort status, string? errorComment)
    {
        var dataset = new DicomDataset()
            .SetUInt16(CommandFieldTag, (ushort)field)
            .SetUInt16(MessageIdBeingRespondedToTag, messageIdBeingRespondedTo)
            .SetUInt16(CommandDataSetTypeTag, NoDataSet)
            .SetUInt16(StatusTag, status);
        if (!string.IsNullOrEmpty(sopClassUid))
        {
            dataset.Add(Ui(AffectedSopClassUidTag, sopClassUid));
        }
        if (!string.IsNullOrEmpty(sopInstanceUid))
        {
            dataset.Add(Ui(AffectedSopInstanceUidTag, sopInstanceUid));
        }
        if (!string.IsNullOrWhiteSpace(errorComment) && status != DimseStatus.Success)
        {
            dataset.Add(new DicomElement(ErrorCommentTag, DicomVR.LO, Pad(ErrorCommentBytes(errorComment), (byte)' ')));
        }
        return new DimseCommand(dataset);
    }

    /// <summary>Encodes the command set: Command Group Length, then the elements, Implicit VR Little Endian.</summary>
    public byte[] Encode()
    {
        var elements = DicomDatasetWriter.ToBytes(new DicomDataset(Dataset.Where(i => i.Tag != CommandGroupLength)), DicomTransferSyntax.ImplicitVRLittleEndian);
        var result = new byte[12 + elements.Length];
        // (0000,0000) UL 4 <length of the rest>, in Implicit VR: tag, 32-bit length, value.
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)elements.Length);
        elements.CopyTo(result, 12);
        return result;
    }

    /// <summary>
    /// Decodes a reassembled command set. Only group 0000 elements are allowed and Command Field must be present;
    /// anything else throws <see cref="DicomFormatException"/> with <paramref name="offset"/> added to positions.
    /// </summary>
    public static DimseCommand Decode(ReadOnlyMemory<byte> encoded, long offset = 0)
    {
        if (encoded.Length > MaxEncodedLength)
        {
            throw new DicomFormatException($"Command set of {encoded.Length} bytes exceeds {MaxEncodedLength}", offset);
        }
        DicomDataset dataset;
        using (var stream = new MemoryStream(encoded.ToArray(), writable: false))
        {
            var options = new DicomReadOptions { MaxValueLength = MaxEncodedLength, MaxSequenceDepth = 0 };
            dataset = DicomDatasetReader.Read(stream, DicomTransferSyntax.ImplicitVRLittleEndian, options, offset);
        }
        foreach (var item in dataset)
        {
            if (item.Tag.Group != 0x0000)
            {
                throw new DicomFormatException($"Command set contains {item.Tag} outside group 0000", offset, item.Tag);
            }
            if (item is not DicomElement)
            {
                throw new DicomFormatException("Command set contains a sequence", offset, item.Tag);
            }
        }
        if (dataset.GetUInt16(CommandFieldTag) is null)
        {
            throw new DicomFormatException("Command set has no Command Field (0000,0100)", offset + encoded.Length, CommandFieldTag);
        }
        dataset.Remove(CommandGroupLength);
        return new DimseCommand(dataset);
    }

    public override string ToString() =>
        $"{CommandField} (0x{(ushort)CommandField:X4}) id {MessageId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}" +
        (Status is { } s ? $" status 0x{s:X4}" : string.Empty);

    private static DicomElement Ui(DicomTag tag, string uid) => new(tag, DicomVR.UI, Pad(Encoding.ASCII.GetBytes(uid.Trim()), 0));

    /// <summary>Error Comment is LO: at most 64 characters, default repertoire, no backslash (PS3.7 C.4).</summary>
    private static byte[] ErrorCommentBytes(string comment)
    {
        var clean = new string(comment.Select(c => c is < ' ' or > '~' or '\\' ? '?' : c).Take(64).ToArray()).Trim();
        return Encoding.ASCII.GetBytes(clean);
    }

    private static byte[] Pad(byte[] bytes, byte padding)
    {
        if (bytes.Length % 2 == 0)
        {
            return bytes;
        }
        var padded = new byte[bytes.Length + 1];
        bytes.CopyTo(padded, 0);
        padded[^1] = padding;
        return padded;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
