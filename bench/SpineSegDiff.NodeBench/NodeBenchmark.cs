using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SpineSegDiff.Cli.Tests.Acceptance;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.NodeBench;

internal sealed record NodeBenchSettings(
    IReadOnlyList<string> Profiles, int Repeats, int Studies, IReadOnlyList<string> Transports, string ThroughputProfile)
{
    public const string Embedded = "embedded";
    public const string RabbitMq = "rabbitmq";

    public bool UsesRabbitMq => Transports.Contains(RabbitMq);

    public string? Validate()
    {
        if (Repeats < 1)
        {
            return "--repeats must be at least 1.";
        }
        if (Studies < 0)
        {
            return "--studies must be 0 or more.";
        }
        if (Transports.Count == 0 || Transports.Any(t => t is not (Embedded or RabbitMq)))
        {
            return $"--transports takes {Embedded} and/or {RabbitMq}.";
        }
        return null;
    }
}

/// <summary>
/// Drives the node as a hospital does: Orthanc holds the studies and sends each to the node with one C-STORE
/// association (REST /modalities/NAME/store, which returns once the last instance is acknowledged); the clock stops when
/// Orthanc's REST API lists all four results of the study, i.e. after the node's last C-STORE was acknowledged and
/// indexed. Every deployment starts on a fresh Orthanc and a fresh store, and its first study is a warm-up (model
/// loading, JIT) that is reported separately.
/// </summary>
internal sealed class NodeBenchmark(NodeBenchSettings settings, string workDirectory)
{
    private const int ResultsPerStudy = 4;
    private const int PollMilliseconds = 100;
    private static readonly TimeSpan StudyTimeout = TimeSpan.FromMinutes(10);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Throughput runs: up to two warm-up studies, then a batch of studies no worker has seen.
        var studyCount = Math.Max(settings.Repeats + 1, settings.Studies + 2);
        Console.WriteLine($"Writing {studyCount} synthetic lumbar studies (spineseg phantom) ...");
        var studies = new List<IReadOnlyList<string>>();
        for (var i = 0; i < studyCount; i++)
        {
            studies.Add(await NodeScenario.PhantomAsync(Path.Combine(workDirectory, "studies", i.ToString(CultureInfo.InvariantCulture)), seed: 100 + i, cancellationToken));
        }
        Console.WriteLine($"{Environment.ProcessorCount} CPU cores; series complete on association release; results polled every {PollMilliseconds} ms.");

        var latencies = new List<(string Transport, string Profile, double Warmup, IReadOnlyList<double> Seconds)>();
        foreach (var transport in settings.Transports)
        {
            foreach (var profile in settings.Profiles)
            {
                await using var deployment = await StartAsync(transport, profile, workers: 1, threadsPerWorker: null, cancellationToken);
                var seconds = new List<double>();
                double warmup = 0;
                for (var i = 0; i <= settings.Repeats; i++)
                {
                    var latency = await StudyLatencyAsync(deployment, studies[i], cancellationToken);
                    Console.WriteLine($"  {transport,-9} {profile,-6} study {i}{(i == 0 ? " (warm-up)" : string.Empty)}: {latency:F1} s");
                    if (i == 0)
                    {
                        warmup = latency;
                    }
                    else
                    {
                        seconds.Add(latency);
                    }
                }
                latencies.Add((transport, profile, warmup, seconds));
            }
        }

        var throughput = new List<(int Workers, int Threads, double Seconds)>();
        if (settings.Studies > 0 && settings.UsesRabbitMq)
        {
            // The same CPU budget both ways: one worker with every core, or two workers sharing them.
            var cores = Environment.ProcessorCount;
            foreach (var (workers, threads) in new[] { (1, cores), (2, Math.Max(1, cores / 2)) })
            {
                await using var deployment = await StartAsync(NodeBenchSettings.RabbitMq, settings.ThroughputProfile, workers, threads, cancellationToken);
                // Warm every worker up first, so the run measures segmentation, not model loading.
                await Task.WhenAll(Enumerable.Range(0, workers).Select(w => StudyLatencyAsync(deployment, studies[w], cancellationToken)));
                var seconds = await BatchAsync(deployment, studies.Skip(2).Take(settings.Studies).ToList(), cancellationToken);
                Console.WriteLine($"  {settings.Studies} studies, {workers} worker(s) x {threads} threads: {seconds:F1} s");
                throughput.Add((workers, threads, seconds));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| Transport | Profile | Warm-up study (s) | Latency median (s) | min-max (s) | studies |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (transport, profile, warmup, seconds) in latencies)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {transport} | {profile} | {warmup:F1} | {Median(seconds):F1} | {seconds.Min():F1}-{seconds.Max():F1} | {seconds.Count} |"));
        }
        if (throughput.Count == 2)
        {
            Console.WriteLine();
            Console.WriteLine($"| Workers ({settings.ThroughputProfile}, RabbitMQ) | Threads each | {settings.Studies} studies (s) | Studies/min |");
            Console.WriteLine("|---|---|---|---|");
            foreach (var (workers, threads, seconds) in throughput)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {workers} | {threads} | {seconds:F1} | {settings.Studies / seconds * 60:F2} |"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"2-worker / 1-worker throughput ratio: {throughput[0].Seconds / throughput[1].Seconds:F2}"));
        }
    }

    /// <summary>Seconds from Orthanc's last C-STORE to the node being acknowledged to all results being in Orthanc.</summary>
    private static async Task<double> StudyLatencyAsync(NodeDeployment deployment, IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        var study = await NodeScenario.UploadAsync(deployment.Pacs, files, cancellationToken);
        await NodeScenario.SendToNodeAsync(deployment.Pacs, study, cancellationToken);
        var clock = Stopwatch.StartNew();
        await NodeScenario.WaitForResultsAsync(deployment.Pacs, study.StudyInstanceUid, ResultsPerStudy, StudyTimeout, cancellationToken, () => deployment.Output, PollMilliseconds);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds from the first study sent to the last result of the last study in Orthanc.</summary>
    private static async Task<double> BatchAsync(NodeDeployment deployment, IReadOnlyList<IReadOnlyList<string>> batch, CancellationToken cancellationToken)
    {
        var uploaded = new List<StudyInPacs>();
        foreach (var files in batch)
        {
            uploaded.Add(await NodeScenario.UploadAsync(deployment.Pacs, files, cancellationToken));
        }
        var clock = Stopwatch.StartNew();
        foreach (var study in uploaded)
        {
            await NodeScenario.SendToNodeAsync(deployment.Pacs, study, cancellationToken);
        }
        foreach (var study in uploaded)
        {
            await NodeScenario.WaitForResultsAsync(
                deployment.Pacs, study.StudyInstanceUid, ResultsPerStudy, StudyTimeout, cancellationToken, () => deployment.Output, PollMilliseconds);
        }
        return clock.Elapsed.TotalSeconds;
    }

    private async Task<NodeDeployment> StartAsync(string transport, string profile, int workers, int? threadsPerWorker, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(workDirectory, $"{transport}-{profile}-{workers}w-{Guid.NewGuid():N}");
        var deployment = new NodeDeployment();
        try
        {
            var nodePort = FreePort.Get();
            deployment.Pacs = await NodeScenario.StartPacsAsync(nodePort, cancellationToken);
            var configuration = NodeScenario.Configuration(nodePort, deployment.Pacs, profile);
            configuration["Gateway"]!["Assembly"]!["CompleteOnAssociationRelease"] = true;
            if (transport == NodeBenchSettings.Embedded)
            {
                deployment.Processes.Add(await NodeProcess.StartAsync(configuration, directory, cancellationToken));
                return deployment;
            }
            deployment.Broker = await RabbitMqBroker.StartAsync(cancellationToken: cancellationToken);
            configuration["Bus"] = NodeScenario.RabbitMqBus(deployment.Broker);
            deployment.Processes.Add(await NodeProcess.StartAsync(configuration, directory, cancellationToken, ["--role", "gateway"], configName: "gateway.json"));
            for (var w = 0; w < workers; w++)
            {
                var environment = threadsPerWorker is { } threads
                    ? new Dictionary<string, string> { ["SPINESEG_Worker__Threads"] = threads.ToString(CultureInfo.InvariantCulture) }
                    : null;
                deployment.Processes.Add(await NodeProcess.StartAsync(configuration, directory, cancellationToken, ["--role", "worker"], environment, configName: $"worker{w + 1}.json"));
            }
            return deployment;
        }
        catch
        {
            await deployment.DisposeAsync();
            throw;
        }
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The PACS, the broker when on RabbitMQ, and the node's processes; stopped in reverse order.</summary>
    private sealed class NodeDeployment : IAsyncDisposable
    {
        public OrthancServer Pacs { get; set; } = null!;

        public RabbitMqBroker? Broker { get; set; }

        public List<NodeProcess> Processes { get; } = [];

        public string Output => string.Join("\n", Processes.Select(p => p.Output));

        public async ValueTask DisposeAsync()
        {
            foreach (var process in Enumerable.Reverse(Processes))
            {
                await process.DisposeAsync();
            }
            if (Broker is not null)
            {
                await Broker.DisposeAsync();
            }
            if (Pacs is not null)
            {
                await Pacs.DisposeAsync();
            }
        }
    }
}
