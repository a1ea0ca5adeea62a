namespace SpineSegDiff.Gateway.Retention;

/// <summary>How long the store keeps what it received and what it produced (section "Gateway:Retention").</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Gateway:Retention";

    /// <summary>
    /// The shortest period allowed: a series must outlive its assembly, the queue in front of the workers and the
    /// segmentation itself, or its job would find its files gone.
    /// </summary>
    public static readonly TimeSpan MinimumPeriod = TimeSpan.FromHours(1);

    /// <summary>Received series are removed this long after their newest instance arrived.</summary>
    public TimeSpan ReceivedInstances { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Results (results/{id}/) are removed this long after they were written, unless an export is still pending.</summary>
    public TimeSpan Results { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the store is scanned (also once at start).</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromHours(1);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ReceivedInstances < MinimumPeriod)
        {
            errors.Add($"{SectionName}:ReceivedInstances must be at least {MinimumPeriod} (got {ReceivedInstances}).");
        }
        if (Results < MinimumPeriod)
        {
            errors.Add($"{SectionName}:Results must be at least {MinimumPeriod} (got {Results}).");
        }
        if (ScanInterval < TimeSpan.FromSeconds(1) || ScanInterval > TimeSpan.FromDays(1))
        {
            errors.Add($"{SectionName}:ScanInterval must be between 1 second and 1 day (got {ScanInterval}).");
        }
        return errors;
    }
}
