namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// Sizes outgoing PDV fragments. Every fragment is even-sized (fo-dicom #284: some vendor SCPs abort on odd ones);
/// with an even-length command or dataset that also makes the last fragment even.
/// </summary>
public static class PdvFragmenter
{
    /// <summary>Smallest peer maximum PDU length we can work with; anything below is treated as a broken peer.</summary>
    public const uint MinimumPeerMaxPduLength = 64;

    /// <summary>
    /// Largest PDV data length that fits a P-DATA-TF of at most <paramref name="peerMaxPduLength"/> bytes (one PDV per
    /// PDU), rounded down to even. A peer maximum of 0 means "unlimited": <paramref name="ownLimit"/> applies then,
    /// and it also caps what a peer may ask for, so our send buffer stays bounded.
    /// </summary>
    public static int MaxPdvDataLength(uint peerMaxPduLength, int ownLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ownLimit, (int)MinimumPeerMaxPduLength);
        if (peerMaxPduLength != 0 && peerMaxPduLength < MinimumPeerMaxPduLength)
        {
            throw new ArgumentOutOfRangeException(nameof(peerMaxPduLength), peerMaxPduLength, "The peer's maximum PDU length is too small to carry data.");
        }
        var limit = peerMaxPduLength == 0 ? (uint)ownLimit : Math.Min(peerMaxPduLength, (uint)ownLimit);
        // PDV item header inside the P-DATA-TF body: length 4 + context id 1 + control header 1.
        var data = (int)limit - 6;
        return data & ~1;
    }

    /// <summary>Splits <paramref name="totalLength"/> bytes into fragments of at most <paramref name="maxPdvDataLength"/> (even).</summary>
    public static IEnumerable<(long Offset, int Length, bool IsLast)> Fragments(long totalLength, int maxPdvDataLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalLength);
        if (maxPdvDataLength < 2 || maxPdvDataLength % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPdvDataLength), maxPdvDataLength, "Fragments must be at least 2 bytes and even.");
        }
        if (totalLength == 0)
        {
            // An empty dataset is still one (last) PDV so the receiver sees the end of the message.
            yield return (0, 0, true);
            yield break;
        }
        for (long offset = 0; offset < totalLength; offset += maxPdvDataLength)
        {
            var length = (int)Math.Min(maxPdvDataLength, totalLength - offset);
            yield return (offset, length, offset + length == totalLength);
        }
    }
}
