using System.Globalization;
using System.Text.RegularExpressions;
using SpineSegDiff.Dicom;
using SpineSegDiff.Gateway.Assembly;

namespace SpineSegDiff.Gateway.Routing;

/// <summary>What routing looks at in a series, read from its first instance's header.</summary>
public sealed record SeriesFacts(
    string? Modality,
    string? BodyPartExamined,
    string? SeriesDescription,
    double? SagittalAngleDegrees,
    Weighting Weighting,
    int Slices)
{
    public static SeriesFacts Of(AssembledSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var h = series.Header;
        var description = h.GetString(DicomTags.SeriesDescription);
        return new SeriesFacts(
            h.GetString(DicomTags.Modality),
            h.GetString(DicomTags.BodyPartExamined),
            description,
            SagittalAngle(h),
            WeightingOf(description, Number(h, DicomTags.EchoTime), Number(h, DicomTags.RepetitionTime)),
            series.InstancePaths.Count);
    }

    /// <summary>Angle between the slice normal and the patient's left-right axis; null without a valid orientation.</summary>
    private static double? SagittalAngle(DicomDataset header)
    {
        double[] o;
        try
        {
            o = header.GetDecimalStrings(DicomTags.ImageOrientationPatient);
        }
        catch (DicomFormatException)
        {
            return null;
        }
        if (o.Length != 6)
        {
            return null;
        }
        var (nx, ny, nz) = (o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]);
        var length = Math.Sqrt(nx * nx + ny * ny + nz * nz);
        return length < 1e-6 ? null : Math.Acos(Math.Min(1, Math.Abs(nx) / length)) * 180 / Math.PI;
    }

    /// <summary>
    /// The description says it when it names T1 or T2 (STIR and FLAIR are not T1/T2 here); otherwise the timing: short
    /// TE and TR is T1-weighted, long TE and TR T2-weighted (the textbook thresholds, which vendors' protocols follow).
    /// </summary>
    internal static Weighting WeightingOf(string? description, double? echoTime, double? repetitionTime)
    {
        if (description is not null)
        {
            var t1 = Regex.IsMatch(description, @"(?<![A-Z0-9])T1", RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));
            var t2 = Regex.IsMatch(description, @"(?<![A-Z0-9])T2", RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));
            if (t1 != t2)
            {
                return t1 ? Weighting.T1 : Weighting.T2;
            }
        }
        return (echoTime, repetitionTime) switch
        {
            ( < 30, < 1000) => Weighting.T1,
            ( >= 60, >= 1500) => Weighting.T2,
            _ => Weighting.Any,
        };
    }

    private static double? Number(DicomDataset header, DicomTag tag)
    {
        var text = header.GetString(tag);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}

/// <summary>A routing decision: the rule that matched (null: not routed) and why, for the log and the audit.</summary>
public sealed record RoutingDecision(RoutingRule? Rule, string Reason)
{
    public bool Routed => Rule is not null;
}

/// <summary>
/// Applies the routing rules in order; the first rule whose every condition holds decides. A series sent to one of
/// the node's AE titles is only matched against that title's rules (<see cref="CalledAeRules"/>).
/// </summary>
public sealed class SeriesRouter(RoutingOptions options, CalledAeRules? aeRules = null)
{
    private readonly CalledAeRules _aeRules = aeRules ?? CalledAeRules.All;

    public RoutingDecision Route(SeriesFacts facts, string? calledAeTitle = null)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var names = _aeRules.RulesFor(calledAeTitle);
        var rules = names.Count == 0 ? options.Rules : options.Rules.Where(r => names.Contains(r.Name.Trim(), StringComparer.Ordinal)).ToList();
        var misses = new List<string>();
        foreach (var rule in rules)
        {
            var miss = FirstMiss(rule, facts);
            if (miss is null)
            {
                return new RoutingDecision(rule, $"matched rule '{rule.Name}'");
            }
            misses.Add($"{rule.Name}: {miss}");
        }
        var reason = misses.Count == 0 ? "no rules" : string.Join("; ", misses);
        // Rules a series was never tried against would otherwise be invisible in the log line an operator reads.
        var skipped = options.Rules.Where(r => !rules.Contains(r)).Select(r => r.Name).ToList();
        return new RoutingDecision(null, skipped.Count == 0 ? reason : $"{reason}; rules [{string.Join(", ", skipped)}] do not apply to this AE title");
    }

    /// <summary>The first condition of <paramref name="rule"/> the series fails, or null when all hold.</summary>
    private static string? FirstMiss(RoutingRule rule, SeriesFacts facts)
    {
        if (rule.Modality is { Length: > 0 } modality && !string.Equals(modality, facts.Modality?.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return $"modality {facts.Modality ?? "missing"}, not {modality}";
        }
        if (rule.BodyParts.Count > 0 && !rule.BodyParts.Contains(facts.BodyPartExamined?.Trim() ?? string.Empty, StringComparer.OrdinalIgnoreCase))
        {
            return $"body part {facts.BodyPartExamined ?? "missing"} not in [{string.Join(", ", rule.BodyParts)}]";
        }
        if (rule.RequireSagittal && !(facts.SagittalAngleDegrees <= rule.SagittalToleranceDegrees))
        {
            return facts.SagittalAngleDegrees is { } angle
                ? string.Create(CultureInfo.InvariantCulture, $"not sagittal (normal {angle:F0} degrees from left-right)")
                : "no image orientation";
        }
        if (rule.SeriesDescriptionPatterns.Count > 0
            && !rule.SeriesDescriptionPatterns.Any(p => Regex.IsMatch(facts.SeriesDescription ?? string.Empty, p, RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100))))
        {
            return "series description matches no pattern";
        }
        if (rule.Weighting != Weighting.Any && facts.Weighting != rule.Weighting)
        {
            return $"weighting {facts.Weighting}, not {rule.Weighting}";
        }
        if (facts.Slices < rule.MinimumSlices)
        {
            return $"{facts.Slices} slices, fewer than {rule.MinimumSlices}";
        }
        return null;
    }
}
