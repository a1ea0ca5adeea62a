namespace SpineSegDiff.Dicom.Network;

/// <summary>Rules for Application Entity titles (PS3.5 table 6.2-1, VR AE).</summary>
public static class AeTitle
{
    public const int MaxLength = 16;

    /// <summary>Returns why <paramref name="value"/> is not a usable AE title, or null when it is.</summary>
    public static string? Check(string? value)
    {
        if (value is null || value.Trim().Length == 0)
        {
            return "is empty or all spaces";
        }
        if (value.Trim().Length > MaxLength)
        {
            return $"is longer than {MaxLength} characters";
        }
        if (value.Any(c => c == '\\' || char.IsControl(c) || c > '~'))
        {
            return "contains a backslash, a control character or a non-ASCII character";
        }
        return null;
    }

    public static bool IsValid(string? value) => Check(value) is null;

    /// <summary>Leading and trailing spaces are not significant; the comparison itself is case-sensitive.</summary>
    public static bool AreEqual(string? a, string? b) => string.Equals(a?.Trim(), b?.Trim(), StringComparison.Ordinal);

    /// <summary>A form safe for logs: whatever a peer sent, no control characters reach the log sink.</summary>
    public static string ForLog(string? value)
    {
        if (value is null)
        {
            return "(none)";
        }
        var text = value.Length > 32 ? value[..32] : value;
        return new string(text.Select(c => c is < ' ' or > '~' ? '?' : c).ToArray());
    }
}
