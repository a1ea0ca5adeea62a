using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Worker;

/// <summary>The segmentation worker (section "Worker").</summary>
public sealed class WorkerOptions
{
    /// <summary>Folder with presegmentation.model and spinesegdiff.model; empty = models/ found above the program.</summary>
    public string? ModelsDirectory { get; set; }

    public ComputeDevice Device { get; set; } = ComputeDevice.Auto;

    /// <summary>libtorch threads; empty = all cores.</summary>
    public int? Threads { get; set; }

    /// <summary>Jobs run at once by this process. One per GPU, or one on a CPU pool (each job uses every thread).</summary>
    public int ConcurrentJobs { get; set; } = 1;

    /// <summary>Seed of the diffusion sampling: the same series and seed give the same result, bit for bit.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Redeliveries of a job that failed with an unexpected error before it goes to the _error queue.</summary>
    public int RetryLimit { get; set; } = 2;

    /// <summary>
    /// How long a job in progress may still run when the worker is stopped (SIGTERM, Ctrl+C) before it is cancelled
    /// and handed back to the queue for another worker. Zero (the default) hands it back at once: a job is redone from
    /// the start anyway, and a stop that waits for a CPU job (tens of seconds) outlasts what orchestrators allow.
    /// </summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.Zero;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ConcurrentJobs is < 1 or > 64)
        {
            errors.Add($"Worker:ConcurrentJobs must be 1-64 (got {ConcurrentJobs}).");
        }
        if (Threads is < 1)
        {
            errors.Add($"Worker:Threads must be at least 1 (got {Threads}).");
        }
        if (RetryLimit is < 0 or > 10)
        {
            errors.Add($"Worker:RetryLimit must be 0-10 (got {RetryLimit}).");
        }
        if (StopGracePeriod < TimeSpan.Zero || StopGracePeriod > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Worker:StopGracePeriod must be between 0 and 10 minutes (got {StopGracePeriod}).");
        }
        if (ModelsDirectory is { Length: > 0 } directory && !Directory.Exists(directory))
        {
            errors.Add($"Worker:ModelsDirectory {directory} does not exist.");
        }
        return errors;
    }
}
