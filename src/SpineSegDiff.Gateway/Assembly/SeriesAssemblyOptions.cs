namespace SpineSegDiff.Gateway.Assembly;

/// <summary>When a series counts as complete (section "Gateway:Assembly").</summary>
public sealed class SeriesAssemblyOptions
{
    /// <summary>A series is complete this long after its last new instance (DICOM has no "end of series" message).</summary>
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Also complete a series as soon as the association that sent it is released. Right for senders that send one
    /// series per association (most PACS routing rules); wrong for senders that split a series over associations.
    /// </summary>
    public bool CompleteOnAssociationRelease { get; set; }

    /// <summary>
    /// Watchdog: a series still receiving new instances this long after its first is published with what it has
    /// (a sender that never stops must not keep a study from ever being segmented).
    /// </summary>
    public TimeSpan MaxAssemblyTime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the gateway looks for complete series.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (QuietPeriod <= TimeSpan.Zero || QuietPeriod > TimeSpan.FromHours(1))
        {
            errors.Add($"Gateway:Assembly:QuietPeriod must be between 0 and 1 hour (got {QuietPeriod}).");
        }
        if (MaxAssemblyTime <= QuietPeriod)
        {
            errors.Add($"Gateway:Assembly:MaxAssemblyTime ({MaxAssemblyTime}) must be longer than QuietPeriod ({QuietPeriod}).");
        }
        if (PollInterval <= TimeSpan.Zero || PollInterval > QuietPeriod)
        {
            errors.Add($"Gateway:Assembly:PollInterval must be positive and at most QuietPeriod (got {PollInterval}).");
        }
        return errors;
    }
}
