using System.Globalization;
using System.Net.Sockets;

namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>Options for <see cref="RabbitMqBroker"/>.</summary>
public sealed record RabbitMqBrokerOptions
{
    /// <summary>
    /// A cold Erlang VM boots RabbitMQ in ~6 s on an idle 2-core machine; with a segmentation running beside it that
    /// can triple, so the default leaves room.
    /// </summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Bound on <c>rabbitmqctl shutdown</c> before the broker is killed instead.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>Extra rabbitmq.conf lines (new-style key = value), appended to the generated ones.</summary>
    public IReadOnlyList<string> ExtraConfiguration { get; init; } = [];
}

/// <summary>A queue as <c>rabbitmqctl list_queues</c> sees it: messages ready for delivery, and connected consumers.</summary>
public sealed record RabbitMqQueue(string Name, int Messages, int Consumers);

/// <summary>
/// A private RabbitMQ 3.10 (Debian's rabbitmq-server package) for one test: its own node name, AMQP port, Erlang
/// distribution port and epmd on free loopback ports, and every bit of state (database, logs, config, Erlang cookie)
/// in a temp directory, so it neither needs nor disturbs the machine's rabbitmq service, and two tests can each have
/// one. It runs as the current user: the package's /usr/sbin wrappers switch to the rabbitmq user when started by
/// root (as the tests are in CI), which could not read the temp directory, so the scripts of the package's own
/// lib folder are run instead. <see cref="StopAsync"/> and <see cref="RestartAsync"/> keep ports, node name and data,
/// so durable queues and their persistent messages survive a restart, as they do a broker restart in production.
/// </summary>
public sealed class RabbitMqBroker : IDisposable, IAsyncDisposable
{
    /// <summary>Where the Debian package keeps the unwrapped scripts (<c>dpkg -L rabbitmq-server</c>).</summary>
    public const string ScriptsDirectory = "/usr/lib/rabbitmq/bin";

    /// <summary>RabbitMQ's built-in account; it may only log in over loopback, which is all the tests use.</summary>
    public const string Username = "guest";

    public const string Password = "guest";

    private static readonly TimeSpan EpmdStartupTimeout = TimeSpan.FromSeconds(15);

    // AMQP 0-9-1 protocol header; a broker answers it with a Connection.Start method frame once its listener is up.
    private static readonly byte[] ProtocolHeader = [(byte)'A', (byte)'M', (byte)'Q', (byte)'P', 0, 0, 9, 1];

    private readonly TempDirectory _directory;
    private readonly RabbitMqBrokerOptions _options;
    private readonly ExternalProcess _epmd;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private ExternalProcess? _server;
    private int _disposed;

    private RabbitMqBroker(TempDirectory directory, RabbitMqBrokerOptions options, ExternalProcess epmd, IReadOnlyDictionary<string, string> environment,
        string nodeName, int amqpPort, int distributionPort, int epmdPort)
    {
        _directory = directory;
        _options = options;
        _epmd = epmd;
        _environment = environment;
        NodeName = nodeName;
        AmqpPort = amqpPort;
        DistributionPort = distributionPort;
        EpmdPort = epmdPort;
    }

    public string Host => Tools.Loopback;

    /// <summary>The AMQP 0-9-1 listener, on 127.0.0.1 only.</summary>
    public int AmqpPort { get; }

    /// <summary>Erlang distribution (rabbitmqctl talks to the node through it), on 127.0.0.1 only.</summary>
    public int DistributionPort { get; }

    /// <summary>The private epmd this node and its rabbitmqctl calls register with (ERL_EPMD_PORT).</summary>
    public int EpmdPort { get; }

    /// <summary>e.g. spineseg-3f2a...@localhost; unique per broker, so no two tests share a database or a cookie.</summary>
    public string NodeName { get; }

    /// <summary>The temp directory with the node's database, logs, configuration and HOME.</summary>
    public string DataDirectory => _directory.Path;

    public bool IsRunning => _server is { HasExited: false };

    public int? ProcessId => _server?.Id;

    /// <summary>The server's console log (RabbitMQ logs to stdout here), for assertion messages.</summary>
    public string Output => _server?.CombinedOutput ?? string.Empty;

    public int EpmdProcessId => _epmd.Id;

    /// <summary>What the last graceful <c>rabbitmqctl shutdown</c> said (null before any): a non-zero exit means the broker was killed instead.</summary>
    public ProcessResult? LastShutdown { get; private set; }

    public static async Task<RabbitMqBroker> StartAsync(RabbitMqBrokerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RabbitMqBrokerOptions();
        var server = Path.Combine(ScriptsDirectory, "rabbitmq-server");
        if (!File.Exists(server))
        {
            throw new FileNotFoundException($"{server} not found: the RabbitMQ tests need the Debian package rabbitmq-server (scripts/setup.sh installs it).", server);
        }

        var directory = new TempDirectory("spineseg-rabbitmq");
        ExternalProcess? epmd = null;
        RabbitMqBroker? broker = null;
        try
        {
            var ports = FreePort.Get(3);
            var (amqpPort, distributionPort, epmdPort) = (ports[0], ports[1], ports[2]);
            var nodeName = $"spineseg-{Guid.NewGuid():N}@localhost";
            var environment = await WriteFilesAsync(directory, options, nodeName, amqpPort, distributionPort, epmdPort, cancellationToken).ConfigureAwait(false);

            // Our own epmd in the foreground, as a child of the test: the VM would otherwise start one with -daemon,
            // detached from us, which only a port-based kill could stop. The node finds ours on ERL_EPMD_PORT.
            epmd = ExternalProcess.Start(Tools.Find("epmd"), ["-port", Port(epmdPort), "-address", Tools.Loopback], directory.Path, environment);
            await PeerReadiness.WaitAsync(epmd, ct => PeerReadiness.AcceptsTcpAsync(epmdPort, ct), EpmdStartupTimeout, $"epmd on port {epmdPort}", cancellationToken)
                .ConfigureAwait(false);

            broker = new RabbitMqBroker(directory, options, epmd, environment, nodeName, amqpPort, distributionPort, epmdPort);
            await broker.LaunchAsync(cancellationToken).ConfigureAwait(false);
            return broker;
        }
        catch
        {
            if (broker is not null)
            {
                await broker.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                epmd?.Dispose();
                directory.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Stops the broker gracefully (<c>rabbitmqctl shutdown</c>: queues are flushed, clients get a connection.close),
    /// then makes sure no process of it is left, by PID. Data and ports are kept for <see cref="RestartAsync"/>.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_server is null)
        {
            return;
        }

        if (!_server.HasExited)
        {
            try
            {
                LastShutdown = await RabbitmqctlAsync(["shutdown"], _options.ShutdownTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A wedged node is killed below.
            }
        }

        _server.Stop();
    }

    /// <summary>SIGKILL, as if the broker machine lost power: nothing is flushed, unacknowledged deliveries go back to their queues on restart.</summary>
    public void Kill() => _server?.Stop();

    /// <summary>Stops the broker if it runs, then starts it again with the same node name, ports and data.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync(cancellationToken).ConfigureAwait(false);
        await LaunchAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs rabbitmqctl against this node (e.g. <c>list_queues name messages</c>), with the node's HOME (cookie) and
    /// epmd port. Use <c>-q</c> for output without banners.
    /// </summary>
    public Task<ProcessResult> RabbitmqctlAsync(IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ExternalProcess.RunAsync(Path.Combine(ScriptsDirectory, "rabbitmqctl"), ["-n", NodeName, .. arguments], timeout, cancellationToken, _directory.Path, _environment);

    /// <summary>
    /// The broker's queues with their ready messages and consumers (<c>rabbitmqctl list_queues</c>): the test's view of
    /// where a job went (its queue, or the _error queue) and of who competes for it.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, RabbitMqQueue>> QueuesAsync(CancellationToken cancellationToken = default)
    {
        var list = await RabbitmqctlAsync(["-q", "list_queues", "name", "messages", "consumers", "--no-table-headers"], TimeSpan.FromSeconds(60), cancellationToken)
            .ConfigureAwait(false);
        if (list.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl list_queues failed: {list}");
        }

        var queues = new Dictionary<string, RabbitMqQueue>(StringComparer.Ordinal);
        foreach (var line in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split('\t', StringSplitOptions.TrimEntries);
            if (fields.Length == 3
                && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var messages)
                && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var consumers))
            {
                queues[fields[0]] = new RabbitMqQueue(fields[0], messages, consumers);
            }
        }

        return queues;
    }

    /// <summary>
    /// The prefetch count of each consumer of <paramref name="queue"/> (<c>rabbitmqctl list_consumers</c>): how many
    /// unacknowledged messages the broker hands each consumer at most.
    /// </summary>
    public async Task<IReadOnlyList<int>> ConsumerPrefetchCountsAsync(string queue, CancellationToken cancellationToken = default)
    {
        var list = await RabbitmqctlAsync(["-q", "list_consumers", "queue_name", "prefetch_count", "--no-table-headers"], TimeSpan.FromSeconds(60), cancellationToken)
            .ConfigureAwait(false);
        if (list.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl list_consumers failed: {list}");
        }

        return list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t', StringSplitOptions.TrimEntries))
            .Where(fields => fields.Length == 2 && fields[0] == queue)
            .Select(fields => int.Parse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture))
            .ToList();
    }

    /// <summary>True when the AMQP port answers the protocol header with Connection.Start (a listening socket alone is not enough).</summary>
    public static async Task<bool> AnswersAmqpAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(Tools.Loopback, port, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync(ProtocolHeader, cancellationToken).ConfigureAwait(false);

        // Frame header (type 1 = method, channel 0, 4-byte size), then class 10 (connection), method 10 (start).
        var frame = new byte[11];
        var read = 0;
        while (read < frame.Length)
        {
            var n = await stream.ReadAsync(frame.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return frame[0] == 1 && frame[1] == 0 && frame[2] == 0 && frame[7] == 0 && frame[8] == 10 && frame[9] == 0 && frame[10] == 10;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            _server?.Dispose();
            _epmd.Dispose();
        }
        finally
        {
            _directory.Dispose();
        }
    }

    /// <summary>Graceful stop (bounded), then the node's and epmd's processes are killed by PID and the data deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }

        try
        {
            using var bounded = new CancellationTokenSource(_options.ShutdownTimeout + TimeSpan.FromSeconds(15));
            await StopAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            // Disposal must not fail a test that already has its result; Dispose kills whatever is left.
        }

        Dispose();
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("The broker is still running.");
        }

        var previous = _server;
        var server = ExternalProcess.Start(Path.Combine(ScriptsDirectory, "rabbitmq-server"), [], _directory.Path, _environment);
        _server = server;
        previous?.Dispose();
        await PeerReadiness.WaitAsync(
            server,
            ct => AnswersAmqpAsync(AmqpPort, ct),
            _options.StartupTimeout,
            $"RabbitMQ {NodeName} (AMQP {AmqpPort})",
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyDictionary<string, string>> WriteFilesAsync(
        TempDirectory directory, RabbitMqBrokerOptions options, string nodeName, int amqpPort, int distributionPort, int epmdPort, CancellationToken cancellationToken)
    {
        var home = Directory.CreateDirectory(directory.Combine("home")).FullName;
        var config = directory.Combine("rabbitmq.conf");
        var lines = new List<string>
        {
            // Console only: ExternalProcess keeps it for failure messages, and nothing is written outside the temp dir.
            "log.console = true",
            "log.console.level = info",
            "log.file = false",
        };
        lines.AddRange(options.ExtraConfiguration);
        await File.WriteAllLinesAsync(config, lines, cancellationToken).ConfigureAwait(false);
        var plugins = directory.Combine("enabled_plugins");
        await File.WriteAllTextAsync(plugins, "[].\n", cancellationToken).ConfigureAwait(false);
        // An empty env file instead of /etc/rabbitmq/rabbitmq-env.conf, which could move the node's name or ports.
        var envFile = directory.Combine("rabbitmq-env.conf");
        await File.WriteAllTextAsync(envFile, string.Empty, cancellationToken).ConfigureAwait(false);

        // Distribution on loopback only (the VM listens on every interface otherwise), for the node and for rabbitmqctl.
        const string loopbackDistribution = "-kernel inet_dist_use_interface {127,0,0,1}";
        return new Dictionary<string, string>
        {
            // The Erlang cookie is created in, and read from, $HOME: a private HOME is a private cookie.
            ["HOME"] = home,
            ["RABBITMQ_NODENAME"] = nodeName,
            ["RABBITMQ_NODE_IP_ADDRESS"] = Tools.Loopback,
            ["RABBITMQ_NODE_PORT"] = Port(amqpPort),
            // Set explicitly: the default (AMQP port + 20000) may not exist for a port above 45535.
            ["RABBITMQ_DIST_PORT"] = Port(distributionPort),
            ["ERL_EPMD_PORT"] = Port(epmdPort),
            ["ERL_EPMD_ADDRESS"] = Tools.Loopback,
            ["RABBITMQ_MNESIA_BASE"] = Directory.CreateDirectory(directory.Combine("mnesia")).FullName,
            ["RABBITMQ_LOG_BASE"] = Directory.CreateDirectory(directory.Combine("log")).FullName,
            ["RABBITMQ_CONFIG_FILE"] = config,
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = directory.Combine("advanced.config"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = plugins,
            ["RABBITMQ_CONF_ENV_FILE"] = envFile,
            ["RABBITMQ_PID_FILE"] = directory.Combine("rabbitmq.pid"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = loopbackDistribution,
            ["RABBITMQ_CTL_ERL_ARGS"] = loopbackDistribution,
        }.AsReadOnly();
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
