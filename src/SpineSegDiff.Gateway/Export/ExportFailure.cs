namespace SpineSegDiff.Gateway.Export;

/// <summary>Whether trying again can help.</summary>
public enum ExportFailureKind
{
    /// <summary>The destination is down, busy or out of resources: retry later.</summary>
    Transient,

    /// <summary>The destination will never take this (SOP class not supported, rejected association, bad data): park.</summary>
    Permanent,
}

/// <summary>
/// Why an export attempt failed. <see cref="Reason"/> is fixed text about the destination and the protocol (status
/// codes, rejection reasons), never patient data or file content, because it goes to logs, metrics and reason.json.
/// </summary>
public sealed record ExportFailure(ExportFailureKind Kind, string Reason)
{
    public bool IsTransient => Kind == ExportFailureKind.Transient;

    public static ExportFailure Transient(string reason) => new(ExportFailureKind.Transient, reason);

    public static ExportFailure Permanent(string reason) => new(ExportFailureKind.Permanent, reason);
}
