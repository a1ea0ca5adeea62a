using System.Net;

namespace SpineSegDiff.Gateway.Status;

/// <summary>
/// The status page and health endpoints (section "Status"): an HTTP listener of the gateway, on the loopback interface
/// by default because the page lets whoever reaches it retry parked exports and it has no login.
/// </summary>
public sealed class StatusOptions
{
    public const string SectionName = "Status";

    public const int MaxRecentStudies = 1000;

    public bool Enabled { get; set; } = true;

    /// <summary>An IP address (IPv4 or IPv6); 0.0.0.0 or :: exposes the page to the network.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 turns the listener off (like <see cref="Enabled"/> false).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>How many of the newest studies the page lists.</summary>
    public int RecentStudies { get; set; } = 50;

    /// <summary>Whether the listener runs at all.</summary>
    public bool IsServed => Enabled && Port != 0;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!IPAddress.TryParse(BindAddress, out _))
        {
            errors.Add($"Status:BindAddress must be an IP address such as 127.0.0.1 (got '{BindAddress}').");
        }
        if (Port is < 0 or > 65535)
        {
            errors.Add($"Status:Port must be 0 (off) or 1-65535 (got {Port}).");
        }
        if (RecentStudies is < 1 or > MaxRecentStudies)
        {
            errors.Add($"Status:RecentStudies must be 1-{MaxRecentStudies} (got {RecentStudies}).");
        }
        return errors;
    }
}
