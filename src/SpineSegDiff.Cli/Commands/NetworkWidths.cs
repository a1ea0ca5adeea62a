using System.Globalization;

namespace SpineSegDiff.Cli.Commands;

/// <summary>The <c>--widths 16,32,64,128,256</c> argument of the commands that create networks.</summary>
internal static class NetworkWidths
{
    /// <summary>Null text is "not given" (true, null); anything but comma-separated positive integers is false.</summary>
    public static bool TryParse(string? text, out int[]? widths)
    {
        widths = null;
        if (text is null)
        {
            return true;
        }
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] < 1)
            {
                return false;
            }
        }
        widths = values;
        return values.Length > 0;
    }
}
