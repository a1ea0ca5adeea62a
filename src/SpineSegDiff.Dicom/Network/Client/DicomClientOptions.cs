namespace SpineSegDiff.Dicom.Network;

/// <summary>How an SCU reaches a peer and how long it waits for it.</summary>
public sealed class DicomClientOptions
{
    public string CallingAeTitle { get; set; } = "SPINESEG";

    public string CalledAeTitle { get; set; } = "ANY-SCP";

    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 104;

    /// <summary>The maximum P-DATA-TF length we advertise (and accept); also caps the PDUs we send to a peer that says "unlimited".</summary>
    public uint MaxPduLength { get; set; } = 262144;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time to receive the A-ASSOCIATE-AC/RJ after requesting, and the A-RELEASE-RP after releasing.</summary>
    public TimeSpan ArtimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for a response, and for any PDU or write within an operation.</summary>
    public TimeSpan DimseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (AeTitle.Check(CallingAeTitle) is { } callingError)
        {
            errors.Add($"CallingAeTitle '{AeTitle.ForLog(CallingAeTitle)}' {callingError}.");
        }
        if (AeTitle.Check(CalledAeTitle) is { } calledError)
        {
            errors.Add($"CalledAeTitle '{AeTitle.ForLog(CalledAeTitle)}' {calledError}.");
        }
        if (string.IsNullOrWhiteSpace(Host))
        {
            errors.Add("Host is empty.");
        }
        if (Port is < 1 or > 65535)
        {
            errors.Add($"Port {Port} is outside 1-65535.");
        }
        if (MaxPduLength is < 4096 or > 16 * 1024 * 1024)
        {
            errors.Add($"MaxPduLength {MaxPduLength} must be between 4096 and 16777216.");
        }
        foreach (var (name, value) in new[] { (nameof(ConnectTimeout), ConnectTimeout), (nameof(ArtimTimeout), ArtimTimeout), (nameof(DimseTimeout), DimseTimeout) })
        {
            if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(1))
            {
                errors.Add($"{name} {value} must be positive and at most one day.");
            }
        }
        return errors;
    }

    internal DicomClientOptions ValidatedCopy()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid DICOM client options: " + string.Join(" ", errors));
        }
        return (DicomClientOptions)MemberwiseClone();
    }
}
