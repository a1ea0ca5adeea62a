using System.Net;

namespace SpineSegDiff.Dicom.Network;

/// <summary>Configuration of the DICOM node's listener (Storage SCP and Verification SCP).</summary>
public sealed class DicomServerOptions
{
    /// <summary>SOP classes accepted by default: verification and the image storage classes a spine PACS sends us,
    /// plus our own outputs (SEG, secondary capture) so corrected results can come back.</summary>
    public static IReadOnlyList<string> DefaultSopClasses { get; } =
    [
        DicomUids.Verification,
        "1.2.840.10008.5.1.4.1.1.1",       // Computed Radiography Image Storage
        "1.2.840.10008.5.1.4.1.1.1.1",     // Digital X-Ray Image Storage - For Presentation
        "1.2.840.10008.5.1.4.1.1.1.1.1",   // Digital X-Ray Image Storage - For Processing
        DicomUids.CTImageStorage,
        "1.2.840.10008.5.1.4.1.1.2.1",     // Enhanced CT Image Storage
        DicomUids.MRImageStorage,
        DicomUids.EnhancedMRImageStorage,
        "1.2.840.10008.5.1.4.1.1.4.3",     // Enhanced MR Color Image Storage
        "1.2.840.10008.5.1.4.1.1.6.1",     // Ultrasound Image Storage
        "1.2.840.10008.5.1.4.1.1.3.1",     // Ultrasound Multi-frame Image Storage
        DicomUids.SecondaryCaptureImageStorage,
        "1.2.840.10008.5.1.4.1.1.7.1",     // Multi-frame Single Bit Secondary Capture Image Storage
        "1.2.840.10008.5.1.4.1.1.7.2",     // Multi-frame Grayscale Byte Secondary Capture Image Storage
        "1.2.840.10008.5.1.4.1.1.7.3",     // Multi-frame Grayscale Word Secondary Capture Image Storage
        DicomUids.MultiFrameTrueColorSecondaryCaptureImageStorage,
        "1.2.840.10008.5.1.4.1.1.12.1",    // X-Ray Angiographic Image Storage
        "1.2.840.10008.5.1.4.1.1.20",      // Nuclear Medicine Image Storage
        "1.2.840.10008.5.1.4.1.1.128",     // Positron Emission Tomography Image Storage
        DicomUids.SegmentationStorage,
        "1.2.840.10008.5.1.4.1.1.66",      // Raw Data Storage
        "1.2.840.10008.5.1.4.1.1.66.1",    // Spatial Registration Storage
        "1.2.840.10008.5.1.4.1.1.88.22",   // Enhanced SR Storage
        "1.2.840.10008.5.1.4.1.1.88.33",   // Comprehensive SR Storage
        "1.2.840.10008.5.1.4.1.1.481.1",   // RT Image Storage
        "1.2.840.10008.5.1.4.1.1.481.2",   // RT Dose Storage
        "1.2.840.10008.5.1.4.1.1.481.3",   // RT Structure Set Storage
        "1.2.840.10008.5.1.4.1.1.481.5",   // RT Plan Storage
    ];

    /// <summary>Explicit VR LE first: it keeps VRs of private and unknown elements (fo-dicom #1048).</summary>
    public static IReadOnlyList<DicomTransferSyntax> DefaultTransferSyntaxes { get; } =
    [
        DicomTransferSyntax.ExplicitVRLittleEndian,
        DicomTransferSyntax.ImplicitVRLittleEndian,
        DicomTransferSyntax.DeflatedExplicitVRLittleEndian,
    ];

    /// <summary>
    /// The node's AE title when <see cref="AeTitles"/> is empty: the one-entry shorthand, with
    /// <see cref="AllowedCallingAeTitles"/>, <see cref="AcceptedSopClasses"/> and every routing rule.
    /// </summary>
    public string AeTitle { get; set; } = "SEGNODE";

    /// <summary>Further AE titles answered with the same settings as <see cref="AeTitle"/> (shorthand only).</summary>
    public IList<string> ExtraAeTitles { get; set; } = [];

    /// <summary>
    /// Every AE title the node answers to, each with its own settings. When set it replaces the shorthand
    /// (<see cref="AeTitle"/>, <see cref="ExtraAeTitles"/>, <see cref="AllowedCallingAeTitles"/>); the first entry is
    /// the main title.
    /// </summary>
    public IList<CalledAeTitleOptions> AeTitles { get; set; } = [];

    public int Port { get; set; } = 11112;

    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Calling AE titles allowed to associate with the shorthand's titles; empty means any.</summary>
    public IList<string> AllowedCallingAeTitles { get; set; } = [];

    /// <summary>When false, a called AE title that is not configured is treated as the main (first) one.</summary>
    public bool RequireKnownCalledAeTitle { get; set; } = true;

    /// <summary>Established associations at once; beyond it requests get a transient "local limit exceeded" rejection.</summary>
    public int MaxAssociations { get; set; } = 16;

    /// <summary>Sockets that have not yet sent an A-ASSOCIATE-RQ; beyond it new sockets are closed at once.</summary>
    public int MaxPendingConnections { get; set; } = 256;

    /// <summary>Maximum P-DATA-TF length we advertise; longer PDUs are aborted, never allocated.</summary>
    public uint MaxPduLength { get; set; } = 262144;

    /// <summary>Time to receive the A-ASSOCIATE-RQ after connecting, and to see the peer close after a rejection, release or abort.</summary>
    public TimeSpan ArtimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An association with no message in flight is aborted after this long without a PDU.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Longest gap between PDUs while a message is in flight (and the bound on writing a response).</summary>
    public TimeSpan DimseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>SOP classes accepted on every AE title that does not set its own.</summary>
    public IList<string> AcceptedSopClasses { get; set; } = [.. DefaultSopClasses];

    /// <summary>In order of preference; only uncompressed syntaxes are allowed (we have no codecs).</summary>
    public IList<DicomTransferSyntax> AcceptedTransferSyntaxes { get; set; } = [.. DefaultTransferSyntaxes];

    /// <summary>Every problem with the configuration, one sentence each; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Network.AeTitle.Check(AeTitle) is { } aeError)
        {
            errors.Add($"AeTitle '{Network.AeTitle.ForLog(AeTitle)}' {aeError}.");
        }
        foreach (var extra in ExtraAeTitles ?? [])
        {
            if (Network.AeTitle.Check(extra) is { } extraError)
            {
                errors.Add($"ExtraAeTitles entry '{Network.AeTitle.ForLog(extra)}' {extraError}.");
            }
        }
        foreach (var calling in AllowedCallingAeTitles ?? [])
        {
            if (Network.AeTitle.Check(calling) is { } callingError)
            {
                errors.Add($"AllowedCallingAeTitles entry '{Network.AeTitle.ForLog(calling)}' {callingError}.");
            }
        }
        ValidateAeTitleEntries(errors);
        if (Port is < 0 or > 65535)
        {
            errors.Add($"Port {Port} is outside 1-65535 (0 picks a free port, for tests).");
        }
        if (!IPAddress.TryParse(BindAddress, out _))
        {
            errors.Add($"BindAddress '{BindAddress}' is not an IP address.");
        }
        if (MaxAssociations < 1)
        {
            errors.Add($"MaxAssociations {MaxAssociations} must be at least 1.");
        }
        if (MaxPendingConnections < 1)
        {
            errors.Add($"MaxPendingConnections {MaxPendingConnections} must be at least 1.");
        }
        if (MaxPduLength is < 4096 or > 16 * 1024 * 1024)
        {
            errors.Add($"MaxPduLength {MaxPduLength} must be between 4096 and 16777216.");
        }
        CheckTimeout(errors, nameof(ArtimTimeout), ArtimTimeout);
        CheckTimeout(errors, nameof(IdleTimeout), IdleTimeout);
        CheckTimeout(errors, nameof(DimseTimeout), DimseTimeout);
        if (AcceptedSopClasses is null || AcceptedSopClasses.Count == 0)
        {
            errors.Add("AcceptedSopClasses is empty: the node would refuse everything.");
        }
        else
        {
            foreach (var uid in AcceptedSopClasses.Where(u => !DicomUids.IsValid(u)))
            {
                errors.Add($"AcceptedSopClasses entry '{uid}' is not a valid UID.");
            }
        }
        if (AcceptedTransferSyntaxes is null || AcceptedTransferSyntaxes.Count == 0)
        {
            errors.Add("AcceptedTransferSyntaxes is empty.");
        }
        else
        {
            foreach (var ts in AcceptedTransferSyntaxes.Where(t => t is null || t.IsEncapsulated || !t.IsLittleEndian))
            {
                errors.Add($"AcceptedTransferSyntaxes entry {ts?.ToString() ?? "(null)"} is not an uncompressed Little Endian syntax; this node has no codecs.");
            }
        }
        return errors;
    }

    /// <summary>All AE titles this node answers to, the main one first.</summary>
    public IReadOnlyList<string> AllAeTitles() => [.. ResolvedAeTitles().Select(t => t.AeTitle)];

    /// <summary>
    /// The AE titles in effect, each complete: <see cref="AeTitles"/> when set, else the shorthand as entries; titles
    /// and allow-lists trimmed, <see cref="CalledAeTitleOptions.AcceptedSopClasses"/> filled from the node-wide list.
    /// </summary>
    public IReadOnlyList<CalledAeTitleOptions> ResolvedAeTitles()
    {
        if (AeTitles is { Count: > 0 })
        {
            return [.. AeTitles.Where(t => t is not null).Select(t => new CalledAeTitleOptions
            {
                AeTitle = (t.AeTitle ?? string.Empty).Trim(),
                AllowedCallingAeTitles = [.. (t.AllowedCallingAeTitles ?? []).Select(c => c.Trim())],
                Rules = [.. (t.Rules ?? []).Select(r => r.Trim())],
                AcceptedSopClasses = [.. t.AcceptedSopClasses ?? AcceptedSopClasses ?? []],
            })];
        }
        return [.. new[] { AeTitle }.Concat(ExtraAeTitles ?? []).Select(title => new CalledAeTitleOptions
        {
            AeTitle = (title ?? string.Empty).Trim(),
            AllowedCallingAeTitles = [.. (AllowedCallingAeTitles ?? []).Select(c => c.Trim())],
            AcceptedSopClasses = [.. AcceptedSopClasses ?? []],
        })];
    }

    internal AssociationPolicy ToPolicy() => new()
    {
        AeTitles = [.. ResolvedAeTitles().Select(t => new CalledAePolicy(t.AeTitle, [.. t.AllowedCallingAeTitles], [.. t.AcceptedSopClasses!]))],
        RequireKnownCalledAeTitle = RequireKnownCalledAeTitle,
        AcceptedTransferSyntaxes = [.. AcceptedTransferSyntaxes],
        MaxPduLength = MaxPduLength,
    };

    private void ValidateAeTitleEntries(List<string> errors)
    {
        var titles = AeTitles ?? [];
        if (titles.Count > 0)
        {
            // The shorthand's lists would silently not apply to the entries; say so rather than guess what was meant.
            if (ExtraAeTitles is { Count: > 0 })
            {
                errors.Add("Dicom:ExtraAeTitles and Dicom:AeTitles are both set: list every title in Dicom:AeTitles.");
            }
            if (AllowedCallingAeTitles is { Count: > 0 })
            {
                errors.Add("Dicom:AllowedCallingAeTitles and Dicom:AeTitles are both set: give AllowedCallingAeTitles in each Dicom:AeTitles entry.");
            }
        }
        for (var i = 0; i < titles.Count; i++)
        {
            var entry = titles[i];
            var at = $"Dicom:AeTitles:{i}";
            if (entry is null)
            {
                errors.Add($"{at} is empty.");
                continue;
            }
            if (Network.AeTitle.Check(entry.AeTitle) is { } aeError)
            {
                errors.Add($"{at}:AeTitle '{Network.AeTitle.ForLog(entry.AeTitle)}' {aeError}.");
            }
            foreach (var calling in entry.AllowedCallingAeTitles ?? [])
            {
                if (Network.AeTitle.Check(calling) is { } callingError)
                {
                    errors.Add($"{at}:AllowedCallingAeTitles entry '{Network.AeTitle.ForLog(calling)}' {callingError}.");
                }
            }
            if ((entry.Rules ?? []).Any(string.IsNullOrWhiteSpace))
            {
                errors.Add($"{at}:Rules has an empty name.");
            }
            if (entry.AcceptedSopClasses is { } sopClasses)
            {
                if (sopClasses.Count == 0)
                {
                    errors.Add($"{at}:AcceptedSopClasses is empty: this AE title would refuse everything.");
                }
                foreach (var uid in sopClasses.Where(u => !DicomUids.IsValid(u)))
                {
                    errors.Add($"{at}:AcceptedSopClasses entry '{uid}' is not a valid UID.");
                }
            }
        }
        // AE titles compare as the negotiator compares them: trimmed, case-sensitive.
        var resolved = ResolvedAeTitles().Select(t => t.AeTitle).Where(Network.AeTitle.IsValid);
        foreach (var duplicate in resolved.GroupBy(t => t, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add(titles.Count > 0
                ? $"Dicom:AeTitles lists '{duplicate.Key}' {duplicate.Count()} times; each AE title may appear once."
                : $"Dicom:ExtraAeTitles repeats '{duplicate.Key}' (already Dicom:AeTitle or listed before).");
        }
    }

    private static void CheckTimeout(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(1))
        {
            errors.Add($"{name} {value} must be positive and at most one day.");
        }
    }
}
