using System.Buffers.Binary;
using System.Text;

namespace SpineSegDiff.Dicom.Network;

/// <summary>Declared-length limits checked on a PDU header before its body is read or allocated.</summary>
/// <param name="MaxPDataLength">Largest P-DATA-TF body accepted: the maximum length we advertised.</param>
/// <param name="MaxAssociateLength">Largest A-ASSOCIATE-RQ/AC body accepted; real ones are a few KiB.</param>
public readonly record struct PduLimits(uint MaxPDataLength, uint MaxAssociateLength = PduLimits.DefaultMaxAssociateLength)
{
    public const uint DefaultMaxAssociateLength = 64 * 1024;
}

/// <summary>The 6-byte PDU header (type, reserved, 32-bit big-endian length of the rest).</summary>
public readonly record struct PduHeader(PduType Type, uint Length);

/// <summary>
/// Pure PDU decoding (PS3.8 section 9.3). Every malformation throws <see cref="DicomFormatException"/> with the
/// offset in the connection's byte stream; nothing else escapes, whatever the input (the fuzz tests hold it to that).
/// </summary>
public static class PduDecoder
{
    public const int HeaderLength = 6;

    private const int AssociateFixedLength = 68; // version 2 + reserved 2 + called 16 + calling 16 + reserved 32

    public static bool IsKnownType(byte type) => type is >= 0x01 and <= 0x07;

    /// <summary>
    /// Decodes and checks a PDU header: the type must be known and the declared length plausible for it and within
    /// <paramref name="limits"/>, so a reader never allocates what a hostile header claims.
    /// </summary>
    public static PduHeader ReadHeader(ReadOnlySpan<byte> header, PduLimits limits, long offset = 0)
    {
        if (header.Length < HeaderLength)
        {
            throw new DicomFormatException($"PDU header needs {HeaderLength} bytes, got {header.Length}", offset + header.Length);
        }
        var typeByte = header[0];
        if (!IsKnownType(typeByte))
        {
            throw new DicomFormatException($"Unrecognized PDU type 0x{typeByte:X2}", offset);
        }
        var type = (PduType)typeByte;
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[2..]);
        switch (type)
        {
            case PduType.AssociateReject or PduType.ReleaseRequest or PduType.ReleaseResponse or PduType.Abort:
                if (length != 4)
                {
                    throw new DicomFormatException($"{Name(type)} PDU length must be 4, declared {length}", offset + 2);
                }
                break;
            case PduType.AssociateRequest or PduType.AssociateAccept:
                if (length > limits.MaxAssociateLength)
                {
                    throw new DicomFormatException($"{Name(type)} PDU length {length} exceeds the limit of {limits.MaxAssociateLength}", offset + 2);
                }
                if (length < AssociateFixedLength)
                {
                    throw new DicomFormatException($"{Name(type)} PDU length {length} is shorter than its fixed fields ({AssociateFixedLength})", offset + 2);
                }
                break;
            case PduType.PData:
                if (length > limits.MaxPDataLength)
                {
                    throw new DicomFormatException($"P-DATA-TF PDU length {length} exceeds the negotiated maximum of {limits.MaxPDataLength}", offset + 2);
                }
                if (length < 6)
                {
                    throw new DicomFormatException($"P-DATA-TF PDU length {length} cannot hold a PDV item", offset + 2);
                }
                break;
        }
        return new PduHeader(type, length);
    }

    /// <summary>Decodes a whole PDU (header and body); the input must hold exactly the declared length.</summary>
    public static Pdu Decode(ReadOnlyMemory<byte> pdu, PduLimits limits, long offset = 0)
    {
        var header = ReadHeader(pdu.Span, limits, offset);
        var bodyLength = pdu.Length - HeaderLength;
        if (bodyLength != header.Length)
        {
            throw new DicomFormatException(
                bodyLength < header.Length
                    ? $"{Name(header.Type)} PDU truncated: declared {header.Length} bytes, got {bodyLength}"
                    : $"{Name(header.Type)} PDU has {bodyLength - header.Length} bytes beyond its declared length {header.Length}",
                offset + pdu.Length);
        }
        return DecodeBody(header.Type, pdu[HeaderLength..], offset);
    }

    /// <summary>Decodes a PDU body. <paramref name="pduOffset"/> is the stream offset of the PDU's first header byte.</summary>
    public static Pdu DecodeBody(PduType type, ReadOnlyMemory<byte> body, long pduOffset = 0)
    {
        var bodyOffset = pduOffset + HeaderLength;
        return type switch
        {
            PduType.AssociateRequest => DecodeAssociateRequest(body.Span, bodyOffset),
            PduType.AssociateAccept => DecodeAssociateAccept(body.Span, bodyOffset),
            PduType.AssociateReject => DecodeAssociateReject(body.Span, bodyOffset),
            PduType.PData => DecodePData(body, bodyOffset),
            PduType.ReleaseRequest => DecodeFixed4(body.Span, bodyOffset, type, new AReleaseRq()),
            PduType.ReleaseResponse => DecodeFixed4(body.Span, bodyOffset, type, new AReleaseRp()),
            PduType.Abort => DecodeAbort(body.Span, bodyOffset),
            _ => throw new DicomFormatException($"Unrecognized PDU type 0x{(byte)type:X2}", pduOffset),
        };
    }

    internal static string Name(PduType type) => type switch
    {
        PduType.AssociateRequest => "A-ASSOCIATE-RQ",
        PduType.AssociateAccept => "A-ASSOCIATE-AC",
        PduType.AssociateReject => "A-ASSOCIATE-RJ",
        PduType.PData => "P-DATA-TF",
        PduType.ReleaseRequest => "A-RELEASE-RQ",
        PduType.ReleaseResponse => "A-RELEASE-RP",
        PduType.Abort => "A-ABORT",
        _ => $"type 0x{(byte)type:X2}",
    };

    private static T DecodeFixed4<T>(ReadOnlySpan<byte> body, long offset, PduType type, T pdu)
    {
        // Reserved bytes are not tested on receipt (PS3.8 9.3.6/9.3.7), only the length.
        if (body.Length != 4)
        {
            throw new DicomFormatException($"{Name(type)} body must be 4 bytes, got {body.Length}", offset);
        }
        return pdu;
    }

    private static AAbort DecodeAbort(ReadOnlySpan<byte> body, long offset)
    {
        DecodeFixed4(body, offset, PduType.Abort, 0);
        // Unknown source or reason values are reported as they are: an abort is honoured whatever it says.
        return new AAbort((AbortSource)body[2], (AbortReason)body[3]);
    }

    private static AAssociateRj DecodeAssociateReject(ReadOnlySpan<byte> body, long offset)
    {
        DecodeFixed4(body, offset, PduType.AssociateReject, 0);
        var result = body[1];
        var source = body[2];
        if (result is not (1 or 2))
        {
            throw new DicomFormatException($"A-ASSOCIATE-RJ result {result} is neither 1 (permanent) nor 2 (transient)", offset + 1);
        }
        if (source is < 1 or > 3)
        {
            throw new DicomFormatException($"A-ASSOCIATE-RJ source {source} is not 1, 2 or 3", offset + 2);
        }
        return new AAssociateRj((AssociateRejectResult)result, (AssociateRejectSource)source, body[3]);
    }

    private static PDataTf DecodePData(ReadOnlyMemory<byte> body, long offset)
    {
        var values = new List<PresentationDataValue>(1);
        var span = body.Span;
        var position = 0;
        while (position < span.Length)
        {
            if (span.Length - position < 4)
            {
                throw new DicomFormatException("P-DATA-TF ends inside a PDV item length", offset + position);
            }
            var itemLength = BinaryPrimitives.ReadUInt32BigEndian(span[position..]);
            if (itemLength < 2)
            {
                throw new DicomFormatException($"PDV item length {itemLength} cannot hold the context id and control header", offset + position);
            }
            if (itemLength > (uint)(span.Length - position - 4))
            {
                throw new DicomFormatException($"PDV item length {itemLength} exceeds the {span.Length - position - 4} bytes left in the PDU", offset + position);
            }
            var contextId = span[position + 4];
            var control = span[position + 5];
            if ((control & 0xFC) != 0)
            {
                throw new DicomFormatException($"PDV message control header 0x{control:X2} has reserved bits set", offset + position + 5);
            }
            var dataLength = (int)itemLength - 2;
            values.Add(new PresentationDataValue(contextId, (control & 1) != 0, (control & 2) != 0, body.Slice(position + 6, dataLength))
            {
                StreamOffset = offset + position,
            });
            position += 4 + (int)itemLength;
        }
        if (values.Count == 0)
        {
            throw new DicomFormatException("P-DATA-TF without PDV items", offset);
        }
        return new PDataTf(values);
    }

    private static AAssociateRq DecodeAssociateRequest(ReadOnlySpan<byte> body, long offset)
    {
        var fixedFields = ReadAssociateFixedFields(body, offset, PduType.AssociateRequest);
        string? applicationContext = null;
        UserInformation? userInformation = null;
        var contexts = new List<PresentationContextProposal>();
        var reader = new ItemReader(body, AssociateFixedLength, offset);
        while (reader.Next(out var itemType, out var item, out var itemOffset))
        {
            switch (itemType)
            {
                case 0x10:
                    if (applicationContext is not null)
                    {
                        throw new DicomFormatException("A-ASSOCIATE-RQ has more than one application context item", itemOffset);
                    }
                    applicationContext = ReadUid(item, itemOffset, "application context name");
                    break;
                case 0x20:
                    contexts.Add(DecodeProposedContext(item, itemOffset));
                    break;
                case 0x50:
                    if (userInformation is not null)
                    {
                        throw new DicomFormatException("A-ASSOCIATE-RQ has more than one user information item", itemOffset);
                    }
                    userInformation = DecodeUserInformation(item, itemOffset);
                    break;
                default:
                    // Unknown items are skipped so newer peers can add items without breaking us.
                    break;
            }
        }
        if (applicationContext is null)
        {
            throw new DicomFormatException("A-ASSOCIATE-RQ has no application context item", offset + body.Length);
        }
        if (contexts.Count == 0)
        {
            throw new DicomFormatException("A-ASSOCIATE-RQ proposes no presentation context", offset + body.Length);
        }
        return new AAssociateRq(fixedFields.Called, fixedFields.Calling, contexts, userInformation ?? new UserInformation(), applicationContext, fixedFields.Version);
    }

    private static AAssociateAc DecodeAssociateAccept(ReadOnlySpan<byte> body, long offset)
    {
        var fixedFields = ReadAssociateFixedFields(body, offset, PduType.AssociateAccept);
        string? applicationContext = null;
        UserInformation? userInformation = null;
        var contexts = new List<PresentationContextResult>();
        var reader = new ItemReader(body, AssociateFixedLength, offset);
        while (reader.Next(out var itemType, out var item, out var itemOffset))
        {
            switch (itemType)
            {
                case 0x10:
                    if (applicationContext is not null)
                    {
                        throw new DicomFormatException("A-ASSOCIATE-AC has more than one application context item", itemOffset);
                    }
                    applicationContext = ReadUid(item, itemOffset, "application context name");
                    break;
                case 0x21:
                    contexts.Add(DecodeContextResult(item, itemOffset));
                    break;
                case 0x50:
                    if (userInformation is not null)
                    {
                        throw new DicomFormatException("A-ASSOCIATE-AC has more than one user information item", itemOffset);
                    }
                    userInformation = DecodeUserInformation(item, itemOffset);
                    break;
                default:
                    break;
            }
        }
        if (applicationContext is null)
        {
            throw new DicomFormatException("A-ASSOCIATE-AC has no application context item", offset + body.Length);
        }
        return new AAssociateAc(fixedFields.Called, fixedFields.Calling, contexts, userInformation ?? new UserInformation(), applicationContext, fixedFields.Version);
    }

    private static (ushort Version, string Called, string Calling) ReadAssociateFixedFields(ReadOnlySpan<byte> body, long offset, PduType type)
    {
        if (body.Length < AssociateFixedLength)
        {
            throw new DicomFormatException($"{Name(type)} body of {body.Length} bytes is shorter than its fixed fields ({AssociateFixedLength})", offset + body.Length);
        }
        var version = BinaryPrimitives.ReadUInt16BigEndian(body);
        var called = ReadAeTitle(body.Slice(4, 16));
        var calling = ReadAeTitle(body.Slice(20, 16));
        return (version, called, calling);
    }

    private static PresentationContextProposal DecodeProposedContext(ReadOnlySpan<byte> item, long offset)
    {
        if (item.Length < 4)
        {
            throw new DicomFormatException($"Presentation context item of {item.Length} bytes is shorter than 4", offset);
        }
        var id = item[0];
        string? abstractSyntax = null;
        var transferSyntaxes = new List<string>();
        var reader = new ItemReader(item, 4, offset);
        while (reader.Next(out var subType, out var sub, out var subOffset))
        {
            switch (subType)
            {
                case 0x30:
                    if (abstractSyntax is not null)
                    {
                        throw new DicomFormatException($"Presentation context {id} has more than one abstract syntax", subOffset);
                    }
                    abstractSyntax = ReadUid(sub, subOffset, "abstract syntax");
                    break;
                case 0x40:
                    transferSyntaxes.Add(ReadUid(sub, subOffset, "transfer syntax"));
                    break;
                default:
                    throw new DicomFormatException($"Unexpected sub-item 0x{subType:X2} in presentation context {id}", subOffset);
            }
        }
        if (abstractSyntax is null)
        {
            throw new DicomFormatException($"Presentation context {id} has no abstract syntax", offset);
        }
        if (transferSyntaxes.Count == 0)
        {
            throw new DicomFormatException($"Presentation context {id} proposes no transfer syntax", offset);
        }
        return new PresentationContextProposal(id, abstractSyntax, transferSyntaxes);
    }

    private static PresentationContextResult DecodeContextResult(ReadOnlySpan<byte> item, long offset)
    {
        if (item.Length < 4)
        {
            throw new DicomFormatException($"Presentation context item of {item.Length} bytes is shorter than 4", offset);
        }
        var id = item[0];
        var result = item[2];
        if (result > 4)
        {
            throw new DicomFormatException($"Presentation context {id} has result/reason {result}, not 0-4", offset + 2);
        }
        string? transferSyntax = null;
        var reader = new ItemReader(item, 4, offset);
        while (reader.Next(out var subType, out var sub, out var subOffset))
        {
            if (subType != 0x40)
            {
                throw new DicomFormatException($"Unexpected sub-item 0x{subType:X2} in presentation context {id}", subOffset);
            }
            if (transferSyntax is not null)
            {
                throw new DicomFormatException($"Presentation context {id} result has more than one transfer syntax", subOffset);
            }
            // A rejected context may carry an empty transfer syntax sub-item; it is not significant then.
            transferSyntax = sub.Length == 0 && result != 0 ? string.Empty : ReadUid(sub, subOffset, "transfer syntax");
        }
        var code = (PresentationContextResultCode)result;
        if (code == PresentationContextResultCode.Acceptance && string.IsNullOrEmpty(transferSyntax))
        {
            throw new DicomFormatException($"Accepted presentation context {id} names no transfer syntax", offset);
        }
        return new PresentationContextResult(id, code, code == PresentationContextResultCode.Acceptance ? transferSyntax : null);
    }

    private static UserInformation DecodeUserInformation(ReadOnlySpan<byte> item, long offset)
    {
        uint maxLength = 0;
        string? implementationClass = null;
        string? implementationVersion = null;
        AsyncOperationsWindow? window = null;
        var roles = new List<RoleSelection>();
        var reader = new ItemReader(item, 0, offset);
        while (reader.Next(out var subType, out var sub, out var subOffset))
        {
            switch (subType)
            {
                case 0x51:
                    if (sub.Length != 4)
                    {
                        throw new DicomFormatException($"Maximum length sub-item has {sub.Length} bytes, not 4", subOffset);
                    }
                    maxLength = BinaryPrimitives.ReadUInt32BigEndian(sub);
                    break;
                case 0x52:
                    implementationClass = ReadUid(sub, subOffset, "implementation class UID");
                    break;
                case 0x53:
                    if (sub.Length != 4)
                    {
                        throw new DicomFormatException($"Asynchronous operations window sub-item has {sub.Length} bytes, not 4", subOffset);
                    }
                    window = new AsyncOperationsWindow(BinaryPrimitives.ReadUInt16BigEndian(sub), BinaryPrimitives.ReadUInt16BigEndian(sub[2..]));
                    break;
                case 0x54:
                    roles.Add(DecodeRoleSelection(sub, subOffset));
                    break;
                case 0x55:
                    if (sub.Length > 16)
                    {
                        throw new DicomFormatException($"Implementation version name of {sub.Length} bytes exceeds 16", subOffset);
                    }
                    implementationVersion = ReadText(sub);
                    break;
                default:
                    // Extended negotiation, user identity and future sub-items: not used by this node (PS3.7 D.3.3).
                    break;
            }
        }
        return new UserInformation
        {
            MaxPduLength = maxLength,
            ImplementationClassUid = implementationClass,
            ImplementationVersionName = implementationVersion,
            AsyncOperationsWindow = window,
            RoleSelections = roles,
        };
    }

    private static RoleSelection DecodeRoleSelection(ReadOnlySpan<byte> sub, long offset)
    {
        if (sub.Length < 4)
        {
            throw new DicomFormatException($"Role selection sub-item of {sub.Length} bytes is shorter than 4", offset);
        }
        var uidLength = BinaryPrimitives.ReadUInt16BigEndian(sub);
        if (uidLength + 4 != sub.Length)
        {
            throw new DicomFormatException($"Role selection UID length {uidLength} does not fit its {sub.Length}-byte sub-item", offset);
        }
        var uid = ReadUid(sub.Slice(2, uidLength), offset + 2, "role selection SOP class UID");
        return new RoleSelection(uid, sub[2 + uidLength] != 0, sub[3 + uidLength] != 0);
    }

    private static string ReadUid(ReadOnlySpan<byte> bytes, long offset, string what)
    {
        if (bytes.Length > 64 + 1)
        {
            // 64 characters plus the odd-length NUL padding some implementations add.
            throw new DicomFormatException($"The {what} is {bytes.Length} bytes, longer than a UID", offset);
        }
        var text = ReadText(bytes);
        if (text.Length == 0)
        {
            throw new DicomFormatException($"The {what} is empty", offset);
        }
        return text;
    }

    /// <summary>Latin-1 keeps every byte as one character, so comparisons and logs see exactly what was sent.</summary>
    private static string ReadText(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes).TrimEnd('\0', ' ');

    /// <summary>AE titles are padded with spaces; leading and trailing spaces are not significant (PS3.5 table 6.2-1).</summary>
    private static string ReadAeTitle(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes).Trim('\0', ' ');

    /// <summary>Walks the type / reserved / 16-bit length items of an associate PDU or of an item's sub-items.</summary>
    private ref struct ItemReader
    {
        private readonly ReadOnlySpan<byte> _span;
        private readonly long _offset;
        private int _position;

        public ItemReader(ReadOnlySpan<byte> span, int start, long offset)
        {
            _span = span;
            _position = start;
            _offset = offset;
        }

        public bool Next(out byte type, out ReadOnlySpan<byte> item, out long itemOffset)
        {
            item = default;
            type = 0;
            itemOffset = _offset + _position;
            if (_position >= _span.Length)
            {
                return false;
            }
            if (_span.Length - _position < 4)
            {
                throw new DicomFormatException("Item header truncated", itemOffset);
            }
            type = _span[_position];
            var length = BinaryPrimitives.ReadUInt16BigEndian(_span[(_position + 2)..]);
            if (length > _span.Length - _position - 4)
            {
                throw new DicomFormatException($"Item 0x{type:X2} length {length} exceeds the {_span.Length - _position - 4} bytes left", itemOffset + 2);
            }
            item = _span.Slice(_position + 4, length);
            _position += 4 + length;
            itemOffset += 4;
            return true;
        }
    }
}
