using System.Text.RegularExpressions;

namespace SpineSegDiff.Gateway.Status;

/// <summary>
/// The ids the status page puts into URLs: our correlation Guids in the form of the results folder names (32 lower-case
/// hex digits), never UIDs. Anything else is refused before it comes near a path, so a URL cannot name a file outside
/// results/{id}/ ("..", separators, encoded tricks) nor probe for a study by its UID.
/// </summary>
public static partial class StudyIds
{
    /// <summary>The preview pictures a study may have, by the name the page requests.</summary>
    public static IReadOnlyList<string> PreviewNames { get; } = ["overlay.png", "uncertainty.png"];

    public static string Format(Guid id) => id.ToString("N");

    /// <summary>True only for exactly 32 lower-case hex digits that are not the empty Guid.</summary>
    public static bool TryParse(string? text, out Guid id)
    {
        id = Guid.Empty;
        if (text is null || !IdPattern().IsMatch(text) || !Guid.TryParseExact(text, "N", out var parsed) || parsed == Guid.Empty)
        {
            return false;
        }
        id = parsed;
        return true;
    }

    /// <summary>True for one of <see cref="PreviewNames"/>, compared exactly.</summary>
    public static bool IsPreviewName(string? name) => name is not null && PreviewNames.Contains(name, StringComparer.Ordinal);

    // \z, not $: $ also matches before a final newline, which would let "id\n" through.
    [GeneratedRegex("^[0-9a-f]{32}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
