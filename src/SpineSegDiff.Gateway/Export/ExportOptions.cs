using System.Globalization;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Gateway.Export;

/// <summary>Configuration section "Export": where results go, where they wait, and how hard we try.</summary>
public sealed class ExportOptions
{
    public const string SectionName = "Export";

    /// <summary>The named destinations routing rules refer to.</summary>
    public IList<ExportDestinationOptions> Destinations { get; set; } = [];

    /// <summary>The durable queue's folder; relative paths resolve against the working directory (beside the instance store by default).</summary>
    public string QueueDirectory { get; set; } = Path.Combine("storage", "exports");

    public ExportRetryOptions Retry { get; set; } = new();

    public ExportCircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>
    /// How long an item may stay pending without being delivered before it is parked (MONAI Deploy Informatics Gateway
    /// #200: an export must not loop forever). Counted from enqueue, or from the operator's last retry.
    /// </summary>
    public TimeSpan MaxPendingAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the dispatcher looks for due items when nothing wakes it earlier.</summary>
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Every problem, each naming its configuration key; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var prefix = SectionName + ":";
        if (string.IsNullOrWhiteSpace(QueueDirectory))
        {
            errors.Add($"{prefix}QueueDirectory is empty.");
        }
        CheckSpan(errors, $"{prefix}MaxPendingAge", MaxPendingAge, TimeSpan.FromSeconds(1), TimeSpan.FromDays(365));
        CheckSpan(errors, $"{prefix}PollingInterval", PollingInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        if (Retry is null)
        {
            errors.Add($"{prefix}Retry is missing.");
        }
        else
        {
            Retry.Validate(errors, $"{prefix}Retry:");
        }
        if (CircuitBreaker is null)
        {
            errors.Add($"{prefix}CircuitBreaker is missing.");
        }
        else
        {
            CircuitBreaker.Validate(errors, $"{prefix}CircuitBreaker:");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var destinations = Destinations ?? [];
        for (var i = 0; i < destinations.Count; i++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"{prefix}Destinations:{i}:");
            var destination = destinations[i];
            if (destination is null)
            {
                errors.Add($"{key} is empty.");
                continue;
            }
            if (!string.IsNullOrWhiteSpace(destination.Name) && !names.Add(destination.Name.Trim()))
            {
                errors.Add($"{key}Name '{destination.Name}' is used by another destination; names must be unique (case-insensitive).");
            }
            destination.Validate(errors, key, QueueDirectory);
        }
        return errors;
    }

    /// <summary>The destination with this name (case-insensitive), or null.</summary>
    public ExportDestinationOptions? FindDestination(string name) =>
        (Destinations ?? []).FirstOrDefault(d => string.Equals(d.Name?.Trim(), name?.Trim(), StringComparison.OrdinalIgnoreCase));

    internal static void CheckSpan(List<string> errors, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key} {value} must be between {min} and {max}."));
        }
    }
}

/// <summary>The kinds of destination an export can go to.</summary>
public enum ExportDestinationKind
{
    /// <summary>A DICOM Storage SCP (the PACS), reached by C-STORE.</summary>
    Dicom,

    /// <summary>A local folder (demo, or a share another system imports from).</summary>
    Folder,
}

/// <summary>One named destination.</summary>
public sealed class ExportDestinationOptions
{
    /// <summary>The name routing rules use; it appears in logs and metrics, so no patient data.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>"Dicom" or "Folder" (case-insensitive). A string so that a typo gets our message, not a binder exception.</summary>
    public string Kind { get; set; } = nameof(ExportDestinationKind.Dicom);

    public string Host { get; set; } = "127.0.0.1";

    /// <summary>
    /// Required for a DICOM destination: PACS ports differ (104, 11112, 4242, ...) and a guessed default would send
    /// results to whatever listens there, or fail only when the first study is done.
    /// </summary>
    public int? Port { get; set; }

    public string CalledAeTitle { get; set; } = "ANY-SCP";

    public string CallingAeTitle { get; set; } = "SPINESEG";

    public uint MaxPduLength { get; set; } = 262144;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan ArtimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan DimseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Folder destinations only: where delivered files are written.</summary>
    public string? Path { get; set; }

    /// <summary>The parsed <see cref="Kind"/>; valid only after <see cref="ExportOptions.Validate"/> found no error.</summary>
    public ExportDestinationKind ParsedKind =>
        Enum.TryParse<ExportDestinationKind>(Kind?.Trim(), ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new InvalidOperationException($"Unknown export destination kind '{Kind}'.");

    public DicomClientOptions ToClientOptions() => new()
    {
        Host = Host.Trim(),
        Port = Port ?? throw new InvalidOperationException($"Export destination '{Name}' has no port."),
        CalledAeTitle = CalledAeTitle,
        CallingAeTitle = CallingAeTitle,
        MaxPduLength = MaxPduLength,
        ConnectTimeout = ConnectTimeout,
        ArtimTimeout = ArtimTimeout,
        DimseTimeout = DimseTimeout,
    };

    internal void Validate(List<string> errors, string key, string? queueDirectory)
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            errors.Add($"{key}Name is empty.");
        }
        else if (Name.Trim().Length > 64 || Name.Any(c => char.IsControl(c)))
        {
            errors.Add($"{key}Name must be at most 64 printable characters.");
        }
        if (!Enum.TryParse<ExportDestinationKind>(Kind?.Trim(), ignoreCase: true, out var kind) || !Enum.IsDefined(kind) || int.TryParse(Kind, out _))
        {
            errors.Add($"{key}Kind '{Kind}' is unknown; use Dicom or Folder.");
            return;
        }
        switch (kind)
        {
            case ExportDestinationKind.Dicom:
                ValidateDicom(errors, key);
                break;
            case ExportDestinationKind.Folder:
                ValidateFolder(errors, key, queueDirectory);
                break;
        }
    }

    private void ValidateDicom(List<string> errors, string key)
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            errors.Add($"{key}Host is empty.");
        }
        if (Port is null)
        {
            errors.Add($"{key}Port is required for a Dicom destination (the PACS's DICOM port, e.g. 104 or 11112).");
        }
        else if (Port is < 1 or > 65535)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}Port must be 1-65535 (was {Port})."));
        }
        if (AeTitle.Check(CalledAeTitle) is { } called)
        {
            errors.Add($"{key}CalledAeTitle '{AeTitle.ForLog(CalledAeTitle)}' {called}.");
        }
        if (AeTitle.Check(CallingAeTitle) is { } calling)
        {
            errors.Add($"{key}CallingAeTitle '{AeTitle.ForLog(CallingAeTitle)}' {calling}.");
        }
        if (MaxPduLength is < 4096 or > 16 * 1024 * 1024)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}MaxPduLength must be 4096-16777216 (was {MaxPduLength})."));
        }
        ExportOptions.CheckSpan(errors, key + nameof(ConnectTimeout), ConnectTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1));
        ExportOptions.CheckSpan(errors, key + nameof(ArtimTimeout), ArtimTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1));
        ExportOptions.CheckSpan(errors, key + nameof(DimseTimeout), DimseTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1));
    }

    private void ValidateFolder(List<string> errors, string key, string? queueDirectory)
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            errors.Add($"{key}Path is missing (a Folder destination needs the folder to write into).");
            return;
        }
        if (!string.IsNullOrWhiteSpace(queueDirectory))
        {
            var target = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(Path));
            var queue = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(queueDirectory));
            if (IsSameOrInside(target, queue) || IsSameOrInside(queue, target))
            {
                errors.Add($"{key}Path must not overlap the export queue directory.");
            }
        }
    }

    private static bool IsSameOrInside(string path, string folder) =>
        string.Equals(path, folder, StringComparison.Ordinal) ||
        path.StartsWith(folder + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);
}

/// <summary>
/// Retries. Within a round the Polly pipeline tries up to <see cref="AttemptsPerRound"/> times with exponential backoff
/// (<see cref="BaseDelay"/> doubling up to <see cref="MaxDelay"/>); after a failed round the item waits durably for
/// the next round (<see cref="NextRoundDelay"/> doubling up to <see cref="MaxNextRoundDelay"/>), so a restart keeps the schedule.
/// </summary>
public sealed class ExportRetryOptions
{
    public int AttemptsPerRound { get; set; } = 3;

    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Randomises each wait so that many items (or nodes) do not retry in lockstep.</summary>
    public bool UseJitter { get; set; } = true;

    public TimeSpan NextRoundDelay { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan MaxNextRoundDelay { get; set; } = TimeSpan.FromMinutes(30);

    internal void Validate(List<string> errors, string key)
    {
        if (AttemptsPerRound is < 1 or > 100)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}AttemptsPerRound must be 1-100 (was {AttemptsPerRound})."));
        }
        ExportOptions.CheckSpan(errors, key + nameof(BaseDelay), BaseDelay, TimeSpan.Zero, TimeSpan.FromDays(1));
        ExportOptions.CheckSpan(errors, key + nameof(MaxDelay), MaxDelay, TimeSpan.Zero, TimeSpan.FromDays(1));
        if (MaxDelay < BaseDelay)
        {
            errors.Add($"{key}MaxDelay must not be shorter than BaseDelay.");
        }
        ExportOptions.CheckSpan(errors, key + nameof(NextRoundDelay), NextRoundDelay, TimeSpan.Zero, TimeSpan.FromDays(1));
        ExportOptions.CheckSpan(errors, key + nameof(MaxNextRoundDelay), MaxNextRoundDelay, TimeSpan.Zero, TimeSpan.FromDays(1));
        if (MaxNextRoundDelay < NextRoundDelay)
        {
            errors.Add($"{key}MaxNextRoundDelay must not be shorter than NextRoundDelay.");
        }
    }
}

/// <summary>
/// One circuit breaker per destination: when at least <see cref="FailureRatio"/> of the last
/// <see cref="SamplingDuration"/>'s sends (and at least <see cref="MinimumThroughput"/> of them) failed transiently,
/// nothing is sent there for <see cref="BreakDuration"/>. The lower bounds are Polly's own.
/// </summary>
public sealed class ExportCircuitBreakerOptions
{
    public double FailureRatio { get; set; } = 0.5;

    public int MinimumThroughput { get; set; } = 4;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate(List<string> errors, string key)
    {
        if (!(FailureRatio > 0 && FailureRatio <= 1))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}FailureRatio must be above 0 and at most 1 (was {FailureRatio})."));
        }
        if (MinimumThroughput < 2)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}MinimumThroughput must be at least 2 (was {MinimumThroughput})."));
        }
        ExportOptions.CheckSpan(errors, key + nameof(SamplingDuration), SamplingDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1));
        ExportOptions.CheckSpan(errors, key + nameof(BreakDuration), BreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1));
    }
}
