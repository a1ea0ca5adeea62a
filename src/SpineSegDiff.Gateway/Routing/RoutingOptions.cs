using System.Text.RegularExpressions;

namespace SpineSegDiff.Gateway.Routing;

/// <summary>MR weighting a rule asks for.</summary>
public enum Weighting
{
    Any,
    T1,
    T2,
}

/// <summary>
/// One routing rule (section "Gateway:Routing:Rules"). Every condition given must hold; an empty list or a null
/// value means "any". The first rule that matches decides.
/// </summary>
public sealed class RoutingRule
{
    public string Name { get; set; } = string.Empty;

    /// <summary>Modality (0008,0060), e.g. MR.</summary>
    public string? Modality { get; set; } = "MR";

    /// <summary>Body Part Examined (0018,0015) values, compared case-insensitively, e.g. LSPINE, SPINE.</summary>
    public List<string> BodyParts { get; set; } = [];

    /// <summary>Only sagittal series: the slice normal within <see cref="SagittalToleranceDegrees"/> of left-right.</summary>
    public bool RequireSagittal { get; set; } = true;

    public double SagittalToleranceDegrees { get; set; } = 30;

    /// <summary>Regular expressions (case-insensitive) of which Series Description must match one, e.g. "SAG.*T2".</summary>
    public List<string> SeriesDescriptionPatterns { get; set; } = [];

    public Weighting Weighting { get; set; } = Weighting.Any;

    public int MinimumSlices { get; set; } = 5;

    /// <summary>Inference profile for the matched series: paper, fast or presegmentation.</summary>
    public string Profile { get; set; } = "paper";

    /// <summary>Export destination names (Export:Destinations) for the results.</summary>
    public List<string> Destinations { get; set; } = [];
}

/// <summary>The routing rules (section "Gateway:Routing").</summary>
public sealed class RoutingOptions
{
    public List<RoutingRule> Rules { get; set; } = [];

    /// <param name="profiles">Names of the inference profiles the worker knows.</param>
    /// <param name="destinations">Names of the configured export destinations.</param>
    public IReadOnlyList<string> Validate(IReadOnlyCollection<string> profiles, IReadOnlyCollection<string> destinations)
    {
        var errors = new List<string>();
        if (Rules.Count == 0)
        {
            errors.Add("Gateway:Routing:Rules is empty: no series would ever be segmented.");
        }
        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            var at = $"Gateway:Routing:Rules:{i}";
            if (string.IsNullOrWhiteSpace(rule.Name))
            {
                errors.Add($"{at}:Name is required.");
            }
            if (!profiles.Contains(rule.Profile, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{at}:Profile '{rule.Profile}' is not one of {string.Join(", ", profiles)}.");
            }
            if (rule.SagittalToleranceDegrees is < 0 or > 90)
            {
                errors.Add($"{at}:SagittalToleranceDegrees must be 0-90 (got {rule.SagittalToleranceDegrees}).");
            }
            if (rule.MinimumSlices < 1)
            {
                errors.Add($"{at}:MinimumSlices must be at least 1 (got {rule.MinimumSlices}).");
            }
            foreach (var pattern in rule.SeriesDescriptionPatterns)
            {
                try
                {
                    _ = new Regex(pattern, RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));
                }
                catch (ArgumentException ex)
                {
                    errors.Add($"{at}:SeriesDescriptionPatterns '{pattern}' is not a valid regular expression: {ex.Message}");
                }
            }
            foreach (var destination in rule.Destinations.Where(d => !destinations.Contains(d, StringComparer.Ordinal)))
            {
                errors.Add($"{at}:Destinations names '{destination}', which is not in Export:Destinations.");
            }
        }
        foreach (var duplicate in Rules.GroupBy(r => r.Name, StringComparer.Ordinal).Where(g => g.Count() > 1 && g.Key.Length > 0))
        {
            errors.Add($"Gateway:Routing:Rules has two rules named '{duplicate.Key}'.");
        }
        return errors;
    }
}
