namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// One AE title the node answers to, with its own settings (an entry of "Dicom:AeTitles"). A hospital can give one
/// title to the PACS that sends studies to segment and another to the workstation that sends corrected segmentations,
/// each with its own callers, SOP classes and routing rules.
/// </summary>
public sealed class CalledAeTitleOptions
{
    public string AeTitle { get; set; } = string.Empty;

    /// <summary>Calling AE titles allowed to associate with this title; empty means any.</summary>
    public IList<string> AllowedCallingAeTitles { get; set; } = [];

    /// <summary>
    /// Names of the routing rules applied to series received on this title; empty means every rule. The DICOM layer
    /// only carries the names: the gateway resolves them and refuses unknown ones at start.
    /// </summary>
    public IList<string> Rules { get; set; } = [];

    /// <summary>SOP classes accepted on this title; null means the node-wide "Dicom:AcceptedSopClasses".</summary>
    public IList<string>? AcceptedSopClasses { get; set; }

    internal CalledAeTitleOptions Copy() => new()
    {
        AeTitle = AeTitle,
        AllowedCallingAeTitles = [.. AllowedCallingAeTitles ?? []],
        Rules = [.. Rules ?? []],
        AcceptedSopClasses = AcceptedSopClasses is null ? null : [.. AcceptedSopClasses],
    };
}
