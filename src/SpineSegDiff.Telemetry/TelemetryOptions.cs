using System.Security.Cryptography;
using System.Text;

namespace SpineSegDiff.Telemetry;

/// <summary>
/// What identifying data telemetry may carry (configuration section "Telemetry"). Where it is exported is not
/// configured here: the standard OTEL_* environment variables decide, and nothing is exported without them.
/// </summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>
    /// Adds patient name, ID, birth date and accession number to the routing span and its audit event. Off by
    /// default: a collector is rarely cleared to hold PHI, so an operator must opt in knowingly.
    /// </summary>
    public bool IncludePatientData { get; set; }

    /// <summary>
    /// Study, series and instance UIDs are exported as a salted SHA-256 (first 32 hex digits) instead of the UID:
    /// UIDs can identify a study outside the hospital. Equal UIDs hash equally, so a study remains queryable.
    /// </summary>
    public bool HashUids { get; set; }

    /// <summary>Salt for <see cref="HashUids"/>, so hashes cannot be matched against UIDs guessed elsewhere.</summary>
    public string UidHashSalt { get; set; } = "spineseg";

    public IEnumerable<string> Validate()
    {
        if (HashUids && string.IsNullOrEmpty(UidHashSalt))
        {
            yield return "Telemetry:UidHashSalt must not be empty when Telemetry:HashUids is true.";
        }
    }

    /// <summary>A UID as telemetry may show it: the UID itself, or its salted hash under <see cref="HashUids"/>.</summary>
    public string Uid(string? uid)
    {
        if (string.IsNullOrEmpty(uid))
        {
            return string.Empty;
        }
        if (!HashUids)
        {
            return uid;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(UidHashSalt + "\0" + uid));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}
