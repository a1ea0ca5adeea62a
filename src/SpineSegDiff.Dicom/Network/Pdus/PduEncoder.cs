using System.Buffers.Binary;
using System.Text;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// Pure PDU encoding (PS3.8 section 9.3). Throws <see cref="ArgumentException"/> for values that cannot be encoded
/// (AE title over 16 characters, item over 65535 bytes): those are our own bugs, never silently truncated.
/// </summary>
public static class PduEncoder
{
    /// <summary>Bytes in front of each PDV's data when a P-DATA-TF carries one PDV: PDU header 6 + item length 4 + id 1 + control 1.</summary>
    public const int SinglePdvOverhead = PduDecoder.HeaderLength + 6;

    public static byte[] Encode(Pdu pdu)
    {
        ArgumentNullException.ThrowIfNull(pdu);
        var body = new List<byte>(256);
        switch (pdu)
        {
            case AAssociateRq rq:
                WriteAssociateFixedFields(body, rq.ProtocolVersion, rq.CalledAeTitle, rq.CallingAeTitle);
                WriteItem(body, 0x10, Ascii(rq.ApplicationContextName));
                foreach (var pc in rq.PresentationContexts)
                {
                    var item = new List<byte> { pc.Id, 0, 0, 0 };
                    WriteItem(item, 0x30, Ascii(pc.AbstractSyntax));
                    foreach (var ts in pc.TransferSyntaxes)
                    {
                        WriteItem(item, 0x40, Ascii(ts));
                    }
                    WriteItem(body, 0x20, item.ToArray());
                }
                WriteItem(body, 0x50, EncodeUserInformation(rq.UserInformation));
                break;
            case AAssociateAc ac:
                WriteAssociateFixedFields(body, ac.ProtocolVersion, ac.CalledAeTitle, ac.CallingAeTitle);
                WriteItem(body, 0x10, Ascii(ac.ApplicationContextName));
                foreach (var pc in ac.PresentationContexts)
                {
                    var item = new List<byte> { pc.Id, 0, (byte)pc.Result, 0 };
                    // PS3.8 9.3.3.2: the transfer syntax sub-item is always present; its value is not significant on rejection.
                    WriteItem(item, 0x40, Ascii(pc.TransferSyntax ?? string.Empty));
                    WriteItem(body, 0x21, item.ToArray());
                }
                WriteItem(body, 0x50, EncodeUserInformation(ac.UserInformation));
                break;
            case AAssociateRj rj:
                body.AddRange([0, (byte)rj.Result, (byte)rj.Source, rj.Reason]);
                break;
            case PDataTf data:
                foreach (var pdv in data.Values)
                {
                    var length = checked((uint)pdv.Data.Length + 2);
                    AddUInt32(body, length);
                    body.Add(pdv.PresentationContextId);
                    body.Add(pdv.MessageControlHeader);
                    body.AddRange(pdv.Data.Span);
                }
                break;
            case AReleaseRq or AReleaseRp:
                body.AddRange([0, 0, 0, 0]);
                break;
            case AAbort abort:
                body.AddRange([0, 0, (byte)abort.Source, (byte)abort.Reason]);
                break;
            default:
                throw new ArgumentException($"Unknown PDU {pdu.GetType().Name}.", nameof(pdu));
        }
        var result = new byte[PduDecoder.HeaderLength + body.Count];
        WriteHeader(result, pdu.Type, (uint)body.Count);
        body.CopyTo(result, PduDecoder.HeaderLength);
        return result;
    }

    public static void WriteHeader(Span<byte> destination, PduType type, uint length)
    {
        destination[0] = (byte)type;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], length);
    }

    /// <summary>Writes the PDU header and PDV item header of a P-DATA-TF that carries one PDV of <paramref name="dataLength"/> bytes.</summary>
    public static void WriteSinglePdvHeader(Span<byte> destination, byte contextId, bool isCommand, bool isLast, int dataLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        WriteHeader(destination, PduType.PData, checked((uint)dataLength + 6));
        BinaryPrimitives.WriteUInt32BigEndian(destination[6..], checked((uint)dataLength + 2));
        destination[10] = contextId;
        destination[11] = (byte)((isCommand ? 1 : 0) | (isLast ? 2 : 0));
    }

    private static byte[] EncodeUserInformation(UserInformation info)
    {
        var body = new List<byte>(64);
        var max = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(max, info.MaxPduLength);
        WriteItem(body, 0x51, max);
        if (!string.IsNullOrEmpty(info.ImplementationClassUid))
        {
            WriteItem(body, 0x52, Ascii(info.ImplementationClassUid));
        }
        if (info.AsyncOperationsWindow is { } window)
        {
            var w = new byte[4];
            BinaryPrimitives.WriteUInt16BigEndian(w, window.MaxOperationsInvoked);
            BinaryPrimitives.WriteUInt16BigEndian(w.AsSpan(2), window.MaxOperationsPerformed);
            WriteItem(body, 0x53, w);
        }
        foreach (var role in info.RoleSelections)
        {
            var uid = Ascii(role.SopClassUid);
            var item = new byte[uid.Length + 4];
            BinaryPrimitives.WriteUInt16BigEndian(item, checked((ushort)uid.Length));
            uid.CopyTo(item, 2);
            item[^2] = role.ScuRole ? (byte)1 : (byte)0;
            item[^1] = role.ScpRole ? (byte)1 : (byte)0;
            WriteItem(body, 0x54, item);
        }
        if (!string.IsNullOrEmpty(info.ImplementationVersionName))
        {
            var name = Ascii(info.ImplementationVersionName);
            if (name.Length > 16)
            {
                throw new ArgumentException("The implementation version name is longer than 16 characters.", nameof(info));
            }
            WriteItem(body, 0x55, name);
        }
        return body.ToArray();
    }

    private static void WriteAssociateFixedFields(List<byte> body, ushort version, string called, string calling)
    {
        body.Add((byte)(version >> 8));
        body.Add((byte)version);
        body.AddRange([0, 0]);
        body.AddRange(AeTitleField(called, nameof(called)));
        body.AddRange(AeTitleField(calling, nameof(calling)));
        body.AddRange(new byte[32]);
    }

    private static byte[] AeTitleField(string aeTitle, string parameter)
    {
        ArgumentNullException.ThrowIfNull(aeTitle, parameter);
        var trimmed = aeTitle.Trim();
        if (trimmed.Length > 16 || trimmed.Any(c => c > 127))
        {
            throw new ArgumentException($"AE title '{trimmed}' does not fit the 16-character ASCII field.", parameter);
        }
        var field = Enumerable.Repeat((byte)' ', 16).ToArray();
        Encoding.ASCII.GetBytes(trimmed, field);
        return field;
    }

    private static void WriteItem(List<byte> destination, byte type, ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"Item 0x{type:X2} of {value.Length} bytes exceeds the 16-bit item length.");
        }
        destination.Add(type);
        destination.Add(0);
        destination.Add((byte)(value.Length >> 8));
        destination.Add((byte)value.Length);
        destination.AddRange(value);
    }

    private static void AddUInt32(List<byte> destination, uint value)
    {
        destination.Add((byte)(value >> 24));
        destination.Add((byte)(value >> 16));
        destination.Add((byte)(value >> 8));
        destination.Add((byte)value);
    }

    /// <summary>UIDs are not padded in PDU items (PS3.8 annex F): the item length delimits them.</summary>
    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
