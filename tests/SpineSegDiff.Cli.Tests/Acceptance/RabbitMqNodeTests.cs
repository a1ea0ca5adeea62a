using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// The node as separate processes on a real RabbitMQ: <c>serve --role gateway</c> and two <c>serve --role worker</c>
/// sharing one store folder, Orthanc as the PACS. Each test sends one phantom study (fast profile) and asserts that
/// nothing is lost: the PACS ends up with exactly the four result objects (SEG, fractional SEG, two Secondary
/// Captures), whatever happened to a worker or the broker on the way.
/// </summary>
public sealed class RabbitMqNodeTests(ITestOutputHelper output)
{
    private const string JobQueue = "segmentation-jobs";
    private const string ErrorQueue = "segmentation-jobs_error";
    private static readonly TimeSpan ResultTimeout = TimeSpan.FromMinutes(4);

    [Fact(Timeout = 480_000)]
    public async Task Gateway_and_two_workers_on_RabbitMQ_return_valid_results_to_the_PACS_even_when_the_workers_start_after_the_study()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await using var node = await SplitNode.StartAsync(output, workers: 0, cts.Token);

        // No worker has ever connected to this broker: the job must wait in its queue, not vanish in an exchange.
        var clock = Stopwatch.StartNew();
        var studyUid = await NodeScenario.RouteToNodeAsync(node.Pacs, node.Study, cts.Token);
        await node.Gateway.WaitUntilAsync(() => NodeScenario.LogHas(node.Gateway.Output, 3401), "the series routed (event 3401)", TimeSpan.FromMinutes(1), cts.Token);
        var waiting = await node.WaitForQueueAsync(JobQueue, q => q.Messages == 1, cts.Token);
        waiting.Consumers.Should().Be(0);

        await node.StartWorkersAsync(2, cts.Token);
        (await node.Broker.ConsumerPrefetchCountsAsync(JobQueue, cts.Token)).Should().Equal([1, 1],
            "both workers compete for the jobs, each taking one at a time (Worker:ConcurrentJobs 1 is also the prefetch)");
        var results = await node.WaitForAllResultsAsync(studyUid, cts.Token);
        output.WriteLine($"results in the PACS {clock.Elapsed.TotalSeconds:F1} s after the study was sent");

        await PacsResultChecks.VerifyAsync(node.Pacs, results, studyUid, node.StoreRoot, node.Temp.Path, cts.Token);
        node.Workers.Count(w => NodeScenario.LogHas(w.Output, 4001)).Should().Be(1, "one job, done once");
        await node.AssertNoJobLeftAsync(cts.Token);
    }

    [Fact(Timeout = 480_000)]
    public async Task A_worker_killed_mid_job_loses_nothing_because_the_other_worker_redoes_the_job()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await using var node = await SplitNode.StartAsync(output, workers: 2, cts.Token);

        var studyUid = await NodeScenario.RouteToNodeAsync(node.Pacs, node.Study, cts.Token);
        var (victim, job) = await node.WaitForJobStartAsync(cts.Token);
        victim.Kill();
        output.WriteLine($"worker {victim.Id} killed (SIGKILL) during job {job}");

        await node.WaitForAllResultsAsync(studyUid, cts.Token);
        var survivor = node.Workers.Single(w => w != victim);
        NodeScenario.LogHas(survivor.Output, 4001, job).Should().BeTrue("the broker redelivers the unacknowledged job to the other worker");
        NodeScenario.LogHas(survivor.Output, 4002, job).Should().BeTrue();
        await node.AssertNoJobLeftAsync(cts.Token);
    }

    [Fact(Timeout = 480_000)]
    public async Task A_worker_stopped_with_SIGTERM_mid_job_exits_0_at_once_and_hands_the_job_to_the_other_worker()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await using var node = await SplitNode.StartAsync(output, workers: 2, cts.Token);

        var studyUid = await NodeScenario.RouteToNodeAsync(node.Pacs, node.Study, cts.Token);
        var (stopping, job) = await node.WaitForJobStartAsync(cts.Token);
        var clock = Stopwatch.StartNew();
        var exitCode = await stopping.StopAsync(cts.Token);
        output.WriteLine($"worker {stopping.Id} exited with {exitCode} {clock.Elapsed.TotalSeconds:F1} s after SIGTERM, during job {job}");

        exitCode.Should().Be(0, stopping.Output);
        // The logs prove the job was cancelled rather than finished; the bound only keeps the stop within what an
        // orchestrator allows (docker stop waits 10 s by default, systemd 90 s), with room for a loaded CI machine.
        NodeScenario.LogHas(stopping.Output, 4004, job).Should().BeTrue(stopping.Output);
        NodeScenario.LogHas(stopping.Output, 4002, job).Should().BeFalse("the stopping worker did not finish the job");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30));

        await node.WaitForAllResultsAsync(studyUid, cts.Token);
        var other = node.Workers.Single(w => w != stopping);
        NodeScenario.LogHas(other.Output, 4002, job).Should().BeTrue("the job went back to the queue and the other worker did it");
        NodeScenario.LogHas(node.Gateway.Output, 3421).Should().BeFalse("a handed-back job is not a fault");
        await node.AssertNoJobLeftAsync(cts.Token);
    }

    [Fact(Timeout = 480_000)]
    public async Task A_study_that_arrives_while_RabbitMQ_is_down_is_segmented_once_the_broker_is_back()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await using var node = await SplitNode.StartAsync(output, workers: 2, cts.Token);

        var clock = Stopwatch.StartNew();
        await node.Broker.StopAsync(cts.Token);
        output.WriteLine($"broker stopped in {clock.Elapsed.TotalSeconds:F1} s");
        // The gateway takes the study while the broker is down (the PACS's C-STORE returns once every instance is
        // stored), and completes the series after its 2 s quiet period; publishing the job then waits for the broker.
        var studyUid = await NodeScenario.RouteToNodeAsync(node.Pacs, node.Study, cts.Token);
        await Task.Delay(TimeSpan.FromSeconds(5), cts.Token);
        NodeScenario.LogHas(node.Gateway.Output, 3401).Should().BeFalse("no job can be published while the broker is down");

        clock.Restart();
        await node.Broker.RestartAsync(cts.Token);
        output.WriteLine($"broker back on AMQP port {node.Broker.AmqpPort} in {clock.Elapsed.TotalSeconds:F1} s");

        await node.WaitForAllResultsAsync(studyUid, cts.Token);
        output.WriteLine($"results in the PACS {clock.Elapsed.TotalSeconds:F1} s after the broker was restarted");
        NodeScenario.LogHas(node.Gateway.Output, 3401).Should().BeTrue("the job was published once the gateway had reconnected");
        node.Workers.Sum(w => Regex.Count(w.Output, @"\[4002\]")).Should().Be(1, "the job was done once");
        await node.AssertNoJobLeftAsync(cts.Token);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_job_that_keeps_failing_is_parked_in_the_error_queue_and_the_gateway_logs_the_fault()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        // A worker whose model folder is empty: every attempt throws (model files not found), as with a broken deployment.
        using var noModels = new TempDirectory("spineseg-no-models");
        await using var node = await SplitNode.StartAsync(output, workers: 1, cts.Token, worker => worker["Worker"] = new JsonObject { ["ModelsDirectory"] = noModels.Path });

        var studyUid = await NodeScenario.RouteToNodeAsync(node.Pacs, node.Study, cts.Token);
        await node.Gateway.WaitUntilAsync(() => NodeScenario.LogHas(node.Gateway.Output, 3421), "the fault logged (event 3421)", TimeSpan.FromMinutes(2), cts.Token);

        var worker = node.Workers.Single();
        Regex.Count(worker.Output, @"\[4001\]").Should().Be(3, "the job is tried once and retried twice (Worker:RetryLimit 2)");
        NodeScenario.LogHas(node.Gateway.Output, 3421, "Model files not found").Should().BeTrue(node.Gateway.Output);
        var queues = await node.Broker.QueuesAsync(cts.Token);
        queues[ErrorQueue].Messages.Should().Be(1, "the job is parked, not lost");
        queues[JobQueue].Messages.Should().Be(0);
        (await NodeScenario.ResultsInPacsAsync(node.Pacs, studyUid, cts.Token)).Should().BeEmpty();
    }
}

/// <summary>
/// Broker, PACS, one gateway and N workers as separate processes sharing one store, all on loopback; disposed in
/// reverse. Everything needed to diagnose a failure (each process's log) goes to the test output on disposal.
/// </summary>
internal sealed partial class SplitNode : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;

    private readonly int _nodePort;

    private SplitNode(ITestOutputHelper output, TempDirectory temp, RabbitMqBroker broker, OrthancServer pacs, IReadOnlyList<string> study, int nodePort)
    {
        _output = output;
        _nodePort = nodePort;
        Temp = temp;
        Broker = broker;
        Pacs = pacs;
        Study = study;
    }

    public TempDirectory Temp { get; }

    public RabbitMqBroker Broker { get; }

    public OrthancServer Pacs { get; }

    /// <summary>The phantom study's MR files.</summary>
    public IReadOnlyList<string> Study { get; }

    public NodeProcess Gateway { get; private set; } = null!;

    public List<WorkerProcess> Workers { get; } = [];

    public string StoreRoot => Temp.Combine("store");

    public static async Task<SplitNode> StartAsync(ITestOutputHelper output, int workers, CancellationToken cancellationToken, Action<JsonObject>? configureWorker = null)
    {
        var clock = Stopwatch.StartNew();
        var temp = new TempDirectory("spineseg-rabbitmq-node");
        var nodePort = FreePort.Get();
        var brokerTask = RabbitMqBroker.StartAsync(cancellationToken: cancellationToken);
        var pacsTask = NodeScenario.StartPacsAsync(nodePort, cancellationToken);
        var studyTask = NodeScenario.PhantomAsync(temp.Combine("study"), seed: 11, cancellationToken);
        try
        {
            await Task.WhenAll(brokerTask, pacsTask, studyTask);
        }
        catch
        {
            await DisposeStartedAsync(brokerTask, pacsTask);
            temp.Dispose();
            throw;
        }

        var node = new SplitNode(output, temp, brokerTask.Result, pacsTask.Result, studyTask.Result, nodePort);
        try
        {
            node.Gateway = await NodeProcess.StartAsync(node.Configuration(), temp.Combine("gateway"), cancellationToken, ["--role", "gateway"], storeRoot: node.StoreRoot);
            await node.StartWorkersAsync(workers, cancellationToken, configureWorker);
            output.WriteLine($"broker, PACS, gateway and {workers} worker(s) ready in {clock.Elapsed.TotalSeconds:F1} s");
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts <paramref name="count"/> more workers on the shared store; returns once all of them consume the job queue.</summary>
    public async Task StartWorkersAsync(int count, CancellationToken cancellationToken, Action<JsonObject>? configureWorker = null)
    {
        var first = Workers.Count + 1;
        var started = Enumerable.Range(first, count).Select(async i =>
        {
            var configuration = Configuration();
            configureWorker?.Invoke(configuration);
            var process = await NodeProcess.StartAsync(configuration, Temp.Combine($"worker{i}"), cancellationToken, ["--role", "worker"], storeRoot: StoreRoot);
            return new WorkerProcess(process, $"worker{i}");
        }).ToList();
        try
        {
            await Task.WhenAll(started);
        }
        finally
        {
            // Started workers are the node's to stop, even when another one failed to start.
            Workers.AddRange(started.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
        }
        if (count > 0)
        {
            await WaitForConsumersAsync(Workers.Count, cancellationToken);
        }
    }

    /// <summary>The acceptance configuration of <see cref="NodeScenario"/> with the bus on this test's RabbitMQ.</summary>
    public JsonObject Configuration()
    {
        var configuration = NodeScenario.Configuration(_nodePort, Pacs, "fast");
        configuration["Bus"] = NodeScenario.RabbitMqBus(Broker);
        return configuration;
    }

    /// <summary>The worker that logs the start of a job first (event 4001), and the job's correlation id.</summary>
    public async Task<(WorkerProcess Worker, string Job)> WaitForJobStartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var worker in Workers)
            {
                var match = JobStarted().Match(worker.Output);
                if (match.Success)
                {
                    return (worker, match.Groups["job"].Value);
                }
            }
            await Task.Delay(100, cancellationToken);
        }
        throw new TimeoutException($"No worker started the job within 2 minutes.\n{Diagnostics()}");
    }

    /// <summary>Waits for the study's results in the PACS and checks they are exactly the four objects of one run.</summary>
    public async Task<IReadOnlyList<string>> WaitForAllResultsAsync(string studyUid, CancellationToken cancellationToken)
    {
        var results = await NodeScenario.WaitForResultsAsync(Pacs, studyUid, 4, TimeSpan.FromMinutes(4), cancellationToken, Diagnostics);
        // A moment more, so that a second run's objects (a job done twice) would show too.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        results = await NodeScenario.ResultsInPacsAsync(Pacs, studyUid, cancellationToken);
        var kinds = new List<string>();
        foreach (var id in results)
        {
            var tags = await Pacs.GetInstanceTagsAsync(id, cancellationToken);
            var modality = tags.GetProperty("Modality").GetString();
            kinds.Add(modality == "SEG" ? $"SEG {tags.GetProperty("SegmentationType").GetString()}" : modality ?? "?");
        }
        kinds.Should().BeEquivalentTo(["SEG BINARY", "SEG FRACTIONAL", "OT", "OT"], Diagnostics());
        return results;
    }

    /// <summary>
    /// Polls <c>rabbitmqctl list_queues</c> until <paramref name="queue"/> satisfies <paramref name="condition"/> (its
    /// figures can lag a moment behind a publish); fails with the broker's queues and bindings.
    /// </summary>
    public async Task<RabbitMqQueue> WaitForQueueAsync(string queue, Func<RabbitMqQueue, bool> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var queues = await Broker.QueuesAsync(cancellationToken);
            if (queues.TryGetValue(queue, out var found) && condition(found))
            {
                return found;
            }
            if (DateTime.UtcNow > deadline)
            {
                var bindings = await Broker.RabbitmqctlAsync(["-q", "list_bindings"], TimeSpan.FromSeconds(60), cancellationToken);
                throw new TimeoutException($"Queue {queue} is {found?.ToString() ?? "missing"} after 30 s.\n{string.Join('\n', queues.Values)}\n{bindings.Output}\n{Diagnostics()}");
            }
            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>Nothing waits in the job queue and nothing was parked in its _error queue.</summary>
    public async Task AssertNoJobLeftAsync(CancellationToken cancellationToken)
    {
        var queues = await Broker.QueuesAsync(cancellationToken);
        queues.Should().ContainKey("segmentation-jobs").WhoseValue.Messages.Should().Be(0);
        (queues.TryGetValue("segmentation-jobs_error", out var error) ? error.Messages : 0).Should().Be(0, Diagnostics());
        NodeScenario.LogHas(Gateway.Output, 3421).Should().BeFalse(Gateway.Output);
    }

    public string Diagnostics() =>
        string.Join('\n', new[] { $"--- gateway ---\n{Gateway?.Output}" }
            .Concat(Workers.Select(w => $"--- {w.Name} (pid {w.Id}) ---\n{w.Output}"))
            .Append($"--- broker ---\n{Broker.Output}"));

    public async ValueTask DisposeAsync()
    {
        _output.WriteLine(Diagnostics());
        foreach (var worker in Workers)
        {
            await worker.DisposeAsync();
        }
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }
        await Pacs.DisposeAsync();
        await Broker.DisposeAsync();
        Temp.Dispose();
    }

    private async Task WaitForConsumersAsync(int workers, CancellationToken cancellationToken)
    {
        // "Ready." comes before the bus has connected; a job published before the workers consume would only wait in
        // the queue, but the tests that kill a worker need both of them competing from the start.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var queues = await Broker.QueuesAsync(cancellationToken);
            if (queues.TryGetValue("segmentation-jobs", out var jobs) && jobs.Consumers >= workers)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{(jobs?.Consumers ?? 0)} of {workers} workers consume the job queue after 1 minute.\n{Diagnostics()}");
            }
            await Task.Delay(500, cancellationToken);
        }
    }

    private static async Task DisposeStartedAsync(Task<RabbitMqBroker> broker, Task<OrthancServer> pacs)
    {
        try
        {
            await Task.WhenAll(broker, pacs);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The failure is reported by the caller; here only what did start is stopped.
        }
        if (broker.IsCompletedSuccessfully)
        {
            await broker.Result.DisposeAsync();
        }
        if (pacs.IsCompletedSuccessfully)
        {
            await pacs.Result.DisposeAsync();
        }
    }

    [GeneratedRegex(@"\[4001\] Job (?<job>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")]
    private static partial Regex JobStarted();
}

/// <summary>A worker process of a <see cref="SplitNode"/>.</summary>
internal sealed class WorkerProcess(NodeProcess process, string name) : IAsyncDisposable
{
    public string Name { get; } = name;

    public int Id => process.Id;

    public string Output => process.Output;

    public void Kill() => process.Kill();

    public Task<int> StopAsync(CancellationToken cancellationToken) => process.StopAsync(cancellationToken);

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
