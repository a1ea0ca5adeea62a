using System.Globalization;
using System.Numerics;

namespace SpineSegDiff.Dicom;

/// <summary>Well-known UIDs and UID helpers (PS3.5 section 9, PS3.6 annex A).</summary>
public static class DicomUids
{
    public const string ApplicationContext = "1.2.840.10008.3.1.1.1";
    public const string Verification = "1.2.840.10008.1.1";
    public const string MRImageStorage = "1.2.840.10008.5.1.4.1.1.4";
    public const string EnhancedMRImageStorage = "1.2.840.10008.5.1.4.1.1.4.1";
    public const string CTImageStorage = "1.2.840.10008.5.1.4.1.1.2";
    public const string SecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7";
    public const string MultiFrameTrueColorSecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7.4";
    public const string SegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4";

    /// <summary>Our implementation class UID, sent in every association and file meta header.</summary>
    public const string ImplementationClassUid = "2.25.205830112174532883372216359624150390273";

    /// <summary>At most 16 characters (PS3.7 D.3.3.2).</summary>
    public const string ImplementationVersionName = "SPINESEG_010";

    /// <summary>A new UID under the 2.25 root from a random UUID (PS3.5 B.2): no registered root needed.</summary>
    public static string Generate()
    {
        Span<byte> bytes = stackalloc byte[17];
        Guid.NewGuid().TryWriteBytes(bytes[..16], bigEndian: true, out _);
        bytes[16] = 0; // keeps BigInteger non-negative
        bytes[..16].Reverse();
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
        return "2.25." + value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Checks the UI rules of PS3.5 section 9.1: digits and dots, no leading zeros, at most 64 characters.</summary>
    public static bool IsValid(string? uid)
    {
        if (string.IsNullOrEmpty(uid) || uid.Length > 64)
        {
            return false;
        }
        foreach (var component in uid.Split('.'))
        {
            if (component.Length == 0 || (component.Length > 1 && component[0] == '0'))
            {
                return false;
            }
            foreach (var c in component)
            {
                if (c is < '0' or > '9')
                {
                    return false;
                }
            }
        }
        return true;
    }
}
