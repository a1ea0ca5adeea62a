namespace SpineSegDiff.Dicom;

/// <summary>Value Representations of PS3.5 section 6.2. The numeric value is the two ASCII characters.</summary>
public enum DicomVR : ushort
{
    None = 0,
    AE = ('A' << 8) | 'E',
    AS = ('A' << 8) | 'S',
    AT = ('A' << 8) | 'T',
    CS = ('C' << 8) | 'S',
    DA = ('D' << 8) | 'A',
    DS = ('D' << 8) | 'S',
    DT = ('D' << 8) | 'T',
    FD = ('F' << 8) | 'D',
    FL = ('F' << 8) | 'L',
    IS = ('I' << 8) | 'S',
    LO = ('L' << 8) | 'O',
    LT = ('L' << 8) | 'T',
    OB = ('O' << 8) | 'B',
    OD = ('O' << 8) | 'D',
    OF = ('O' << 8) | 'F',
    OL = ('O' << 8) | 'L',
    OV = ('O' << 8) | 'V',
    OW = ('O' << 8) | 'W',
    PN = ('P' << 8) | 'N',
    SH = ('S' << 8) | 'H',
    SL = ('S' << 8) | 'L',
    SQ = ('S' << 8) | 'Q',
    SS = ('S' << 8) | 'S',
    ST = ('S' << 8) | 'T',
    SV = ('S' << 8) | 'V',
    TM = ('T' << 8) | 'M',
    UC = ('U' << 8) | 'C',
    UI = ('U' << 8) | 'I',
    UL = ('U' << 8) | 'L',
    UN = ('U' << 8) | 'N',
    UR = ('U' << 8) | 'R',
    US = ('U' << 8) | 'S',
    UT = ('U' << 8) | 'T',
    UV = ('U' << 8) | 'V',
}

/// <summary>Encoding rules per VR (PS3.5 table 6.2-1 and section 7.1.2).</summary>
public static class DicomVRInfo
{
    /// <summary>Parses the two bytes of an explicit VR; returns false for anything that is not a known VR.</summary>
    public static bool TryParse(byte first, byte second, out DicomVR vr)
    {
        vr = (DicomVR)((first << 8) | second);
        if (first is < (byte)'A' or > (byte)'Z' || second is < (byte)'A' or > (byte)'Z' || !Enum.IsDefined(vr))
        {
            vr = DicomVR.None;
            return false;
        }
        return true;
    }

    public static bool TryParse(string text, out DicomVR vr)
    {
        vr = DicomVR.None;
        return text is { Length: 2 } && TryParse((byte)text[0], (byte)text[1], out vr);
    }

    public static string Code(this DicomVR vr) =>
        vr == DicomVR.None ? "??" : new string([(char)((ushort)vr >> 8), (char)((ushort)vr & 0xFF)]);

    /// <summary>Explicit VR encodings with a reserved 2 bytes and a 32-bit length.</summary>
    public static bool HasLongLength(this DicomVR vr) => vr is DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL
        or DicomVR.OV or DicomVR.OW or DicomVR.SQ or DicomVR.UC or DicomVR.UN or DicomVR.UR or DicomVR.UT
        or DicomVR.SV or DicomVR.UV;

    /// <summary>Character string VRs (values are text, padded to even length).</summary>
    public static bool IsString(this DicomVR vr) => vr is DicomVR.AE or DicomVR.AS or DicomVR.CS or DicomVR.DA
        or DicomVR.DS or DicomVR.DT or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH
        or DicomVR.ST or DicomVR.TM or DicomVR.UC or DicomVR.UI or DicomVR.UR or DicomVR.UT;

    /// <summary>VRs whose text is encoded with the Specific Character Set; the others use the default repertoire.</summary>
    public static bool UsesSpecificCharacterSet(this DicomVR vr) => vr is DicomVR.SH or DicomVR.LO or DicomVR.ST
        or DicomVR.LT or DicomVR.PN or DicomVR.UC or DicomVR.UT;

    /// <summary>String VRs that hold one value only: backslash is a character, not a separator.</summary>
    public static bool IsSingleValuedText(this DicomVR vr) => vr is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR;

    /// <summary>UI values are padded with NUL, other strings with a space; binary values with NUL.</summary>
    public static byte PaddingByte(this DicomVR vr) => vr.IsString() && vr != DicomVR.UI ? (byte)' ' : (byte)0;

    /// <summary>Size of one binary value, for byte swapping and value counts; 0 for strings, OB, UN and SQ.</summary>
    public static int ValueSize(this DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.SS or DicomVR.OW => 2,
        DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.AT => 2, // swapped as two 16-bit halves
        DicomVR.FD or DicomVR.OD or DicomVR.SV or DicomVR.UV or DicomVR.OV => 8,
        _ => 0,
    };

    /// <summary>Maximum length in bytes of one value (PS3.5 table 6.2-1), or 0 when unbounded.</summary>
    public static int MaxValueLength(this DicomVR vr) => vr switch
    {
        DicomVR.AE => 16,
        DicomVR.AS => 4,
        DicomVR.CS => 16,
        DicomVR.DA => 8,
        DicomVR.DS => 16,
        DicomVR.DT => 26,
        DicomVR.IS => 12,
        DicomVR.LO => 64,
        DicomVR.LT => 10240,
        DicomVR.PN => 324, // 64 chars per component group, 3 groups + separators, bytes may be more in UTF-8
        DicomVR.SH => 16,
        DicomVR.ST => 1024,
        DicomVR.TM => 14,
        DicomVR.UI => 64,
        _ => 0,
    };
}
