using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>
/// UIDs under the 2.25 root derived from a name (PS3.5 B.2 allows any UUID; this is a name-based, RFC 9562 version 8
/// UUID from SHA-256). Synthetic studies get the same UIDs for the same inputs, so a phantom is reproducible byte
/// for byte; distinct names give distinct UIDs with UUID-level collision odds.
/// </summary>
public static class DeterministicUid
{
    public static string From(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("spineseg-uid-v1:" + name));
        Span<byte> uuid = stackalloc byte[16];
        hash.AsSpan(0, 16).CopyTo(uuid);
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x80); // version 8
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80); // RFC variant
        var value = new BigInteger(uuid, isUnsigned: true, isBigEndian: true);
        return "2.25." + value.ToString(CultureInfo.InvariantCulture);
    }
}
