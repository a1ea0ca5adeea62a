using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Gateway.Routing;

/// <summary>
/// Which routing rules apply to a series, by the node's AE title it was sent to ("Dicom:AeTitles:n:Rules"; empty: all).
/// A title that is not configured (only possible with Dicom:RequireKnownCalledAeTitle false) gets the main title's
/// rules, as it got the main title's settings in negotiation.
/// </summary>
public sealed class CalledAeRules
{
    private readonly IReadOnlyList<(string AeTitle, IReadOnlyList<string> Rules)> _titles;

    /// <param name="titles">The node's AE titles in effect (<see cref="DicomServerOptions.ResolvedAeTitles"/>), main first.</param>
    public CalledAeRules(IReadOnlyList<CalledAeTitleOptions> titles)
    {
        ArgumentNullException.ThrowIfNull(titles);
        _titles = [.. titles.Select(t => (t.AeTitle.Trim(), (IReadOnlyList<string>)[.. t.Rules.Select(r => r.Trim())]))];
    }

    /// <summary>Every rule for every title: a node with one AE title, or a test.</summary>
    public static CalledAeRules All { get; } = new([]);

    /// <summary>The rule names for series sent to <paramref name="calledAeTitle"/>; empty means every rule.</summary>
    public IReadOnlyList<string> RulesFor(string? calledAeTitle)
    {
        if (_titles.Count == 0)
        {
            return [];
        }
        foreach (var (aeTitle, rules) in _titles)
        {
            if (AeTitle.AreEqual(aeTitle, calledAeTitle))
            {
                return rules;
            }
        }
        return _titles[0].Rules;
    }

    /// <summary>Rule names in "Dicom:AeTitles" that "Gateway:Routing:Rules" does not define, one message each.</summary>
    public static IReadOnlyList<string> Validate(DicomServerOptions dicom, RoutingOptions routing)
    {
        ArgumentNullException.ThrowIfNull(dicom);
        ArgumentNullException.ThrowIfNull(routing);
        var errors = new List<string>();
        var defined = routing.Rules.Select(r => r.Name.Trim()).ToHashSet(StringComparer.Ordinal);
        var titles = dicom.AeTitles ?? [];
        for (var i = 0; i < titles.Count; i++)
        {
            foreach (var name in (titles[i]?.Rules ?? []).Where(n => !string.IsNullOrWhiteSpace(n) && !defined.Contains(n.Trim())))
            {
                errors.Add($"Dicom:AeTitles:{i}:Rules names '{name.Trim()}', which is not in Gateway:Routing:Rules.");
            }
        }
        return errors;
    }
}
