using System.Globalization;

namespace SpineSegDiff.Dicom;

/// <summary>
/// The standard's rules for string values (PS3.5 section 6.2), enforced when our code writes a value so we never
/// produce an object another system has to repair. Reading is lenient: received data is kept as it came.
/// </summary>
public static class DicomValueRules
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the tag and the rule when a value breaks the VR's rules.</summary>
    public static void Validate(DicomTag tag, DicomVR vr, string value, DicomCharacterSet characterSet)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(characterSet);
        var error = Check(vr, value, characterSet);
        if (error is not null)
        {
            throw new ArgumentException($"Invalid {vr.Code()} value for {tag}: {error}.", nameof(value));
        }
    }

    private static string? Check(DicomVR vr, string value, DicomCharacterSet characterSet)
    {
        var max = vr.MaxValueLength();
        if (vr == DicomVR.PN)
        {
            // 64 characters per component group (PS3.5 table 6.2-1).
            if (value.Split('=').Any(g => g.Length > 64))
            {
                return "a component group is longer than 64 characters";
            }
        }
        else if (max > 0 && value.Length > max)
        {
            return $"longer than {max} characters";
        }
        if (!vr.IsSingleValuedText() && value.Contains('\\', StringComparison.Ordinal))
        {
            return "contains a backslash, the value separator";
        }
        if (vr.UsesSpecificCharacterSet())
        {
            if (!characterSet.CanEncode(value))
            {
                return $"contains characters outside the Specific Character Set {characterSet}";
            }
            var allowsFormatting = vr is DicomVR.LT or DicomVR.ST or DicomVR.UT;
            if (value.Any(c => char.IsControl(c) && c != '\u001b' && !(allowsFormatting && c is '\r' or '\n' or '\f' or '\t')))
            {
                return "contains control characters";
            }
            return null;
        }
        if (value.Any(c => c > 127 || (char.IsControl(c) && !(vr == DicomVR.UR && c is '\t'))))
        {
            return "contains characters outside the default repertoire";
        }
        return vr switch
        {
            DicomVR.UI when value.Length > 0 && !DicomUids.IsValid(value) => "not a UID (digits and dots, no leading zeros)",
            DicomVR.CS when value.Any(c => !(c is >= 'A' and <= 'Z' or >= '0' and <= '9' or ' ' or '_')) => "CS allows only A-Z, 0-9, space and underscore",
            DicomVR.AE when value.Length > 0 && value.Trim().Length == 0 => "an AE title cannot be only spaces",
            DicomVR.DA when value.Length > 0 && !TryParseDate(value, out _) => "not a date YYYYMMDD",
            DicomVR.TM when value.Length > 0 && !TryParseTime(value, out _) => "not a time HHMMSS.FFFFFF",
            DicomVR.IS when value.Trim().Length > 0 && !int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) => "not an integer string",
            DicomVR.DS when value.Trim().Length > 0 && !double.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _) => "not a decimal string",
            DicomVR.AS when value.Length > 0 && (value.Length != 4 || !char.IsAsciiDigit(value[0]) || !char.IsAsciiDigit(value[1]) || !char.IsAsciiDigit(value[2]) || "DWMY".IndexOf(value[3], StringComparison.Ordinal) < 0) => "not an age string nnnD/W/M/Y",
            _ => null,
        };
    }

    public static bool TryParseDate(string text, out DateOnly date)
    {
        var s = text.Trim().Replace(".", string.Empty, StringComparison.Ordinal); // ACR-NEMA "YYYY.MM.DD"
        return DateOnly.TryParseExact(s, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    public static bool TryParseTime(string text, out TimeOnly time)
    {
        time = default;
        var s = text.Trim().Replace(":", string.Empty, StringComparison.Ordinal); // ACR-NEMA "HH:MM:SS"
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        var whole = dot >= 0 ? s[..dot] : s;
        var fraction = dot >= 0 ? s[(dot + 1)..] : string.Empty;
        if (whole.Length is not (2 or 4 or 6) || !whole.All(char.IsAsciiDigit) || fraction.Length > 6 || !fraction.All(char.IsAsciiDigit)
            || (fraction.Length > 0 && whole.Length != 6))
        {
            return false;
        }
        var h = int.Parse(whole[..2], CultureInfo.InvariantCulture);
        var m = whole.Length >= 4 ? int.Parse(whole[2..4], CultureInfo.InvariantCulture) : 0;
        var sec = whole.Length == 6 ? int.Parse(whole[4..6], CultureInfo.InvariantCulture) : 0;
        if (sec == 60)
        {
            sec = 59; // leap second: TimeOnly cannot hold it
        }
        if (h > 23 || m > 59 || sec > 59)
        {
            return false;
        }
        var ticks = fraction.Length == 0 ? 0 : long.Parse(fraction.PadRight(7, '0'), CultureInfo.InvariantCulture);
        time = new TimeOnly(h, m, sec).Add(TimeSpan.FromTicks(ticks));
        return true;
    }

    public static string FormatDate(DateOnly date) => date.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static string FormatTime(TimeOnly time)
    {
        var text = time.ToString("HHmmss", CultureInfo.InvariantCulture);
        var micro = time.Ticks % TimeSpan.TicksPerSecond / 10;
        return micro == 0 ? text : text + "." + micro.ToString("D6", CultureInfo.InvariantCulture).TrimEnd('0');
    }

    public static string FormatDateTime(DateTime value) =>
        FormatDate(DateOnly.FromDateTime(value)) + FormatTime(TimeOnly.FromDateTime(value));

    /// <summary>Formats a DS value in at most 16 characters, keeping as many significant digits as fit.</summary>
    public static string FormatDecimal(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "DS values must be finite.");
        }
        for (var precision = 17; precision > 0; precision--)
        {
            var text = value.ToString("G" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (text.Length <= 16)
            {
                return text;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(value), "Value does not fit a DS.");
    }

    public static bool TryParseDateTime(string text, out DateTime value)
    {
        value = default;
        var s = text.Trim();
        var offsetAt = s.IndexOfAny(['+', '-'], 4);
        if (offsetAt > 0)
        {
            s = s[..offsetAt]; // the UTC offset is reported separately by callers that need it
        }
        if (s.Length < 4 || !s[..Math.Min(8, s.Length)].All(char.IsAsciiDigit))
        {
            return false;
        }
        var year = int.Parse(s[..4], CultureInfo.InvariantCulture);
        var month = s.Length >= 6 ? int.Parse(s[4..6], CultureInfo.InvariantCulture) : 1;
        var day = s.Length >= 8 ? int.Parse(s[6..8], CultureInfo.InvariantCulture) : 1;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }
        var time = TimeOnly.MinValue;
        if (s.Length > 8 && !TryParseTime(s[8..], out time))
        {
            return false;
        }
        value = new DateOnly(year, month, day).ToDateTime(time);
        return true;
    }
}
