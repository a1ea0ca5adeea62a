using SpineSegDiff.Gateway.Export;

namespace SpineSegDiff.Gateway.Tests.Support;

/// <summary>Options with millisecond delays so tests never wait for real backoff; assertions count, never time.</summary>
internal static class ExportTestOptions
{
    public static ExportOptions Create(string queueDirectory, params ExportDestinationOptions[] destinations) => new()
    {
        QueueDirectory = queueDirectory,
        Destinations = [.. destinations],
        PollingInterval = TimeSpan.FromMilliseconds(20),
        Retry = new ExportRetryOptions
        {
            AttemptsPerRound = 2,
            BaseDelay = TimeSpan.FromMilliseconds(1),
            MaxDelay = TimeSpan.FromMilliseconds(5),
            NextRoundDelay = TimeSpan.FromMilliseconds(10),
            MaxNextRoundDelay = TimeSpan.FromMilliseconds(50),
        },
        // High throughput threshold: only the circuit breaker test wants it to open.
        CircuitBreaker = new ExportCircuitBreakerOptions { MinimumThroughput = 1000, BreakDuration = TimeSpan.FromMilliseconds(500) },
    };

    public static ExportDestinationOptions Dicom(string name, int port, string calledAe = "PACS") => new()
    {
        Name = name,
        Kind = "Dicom",
        Host = "127.0.0.1",
        Port = port,
        CalledAeTitle = calledAe,
        CallingAeTitle = "SPINESEG",
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ArtimTimeout = TimeSpan.FromSeconds(10),
        DimseTimeout = TimeSpan.FromSeconds(10),
    };

    public static ExportDestinationOptions Folder(string name, string path) => new() { Name = name, Kind = "Folder", Path = path };
}
