using System.Globalization;

namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>Options for <see cref="DcmtkStoreScp"/>.</summary>
public sealed record StoreScpOptions
{
    /// <summary>storescp +xa: accept every transfer syntax dcmtk supports (including compressed ones).</summary>
    public bool AcceptAllTransferSyntaxes { get; init; } = true;

    /// <summary>storescp -pm: accept SOP classes dcmtk does not know.</summary>
    public bool Promiscuous { get; init; }

    /// <summary>
    /// storescp +uf: by default files are named MR.&lt;SOP Instance UID&gt;, so a resent instance
    /// silently overwrites the first copy; unique names make duplicates countable.
    /// </summary>
    public bool UniqueFileNames { get; init; }

    /// <summary>storescp -pdu (4096..131072); the default matches storescp's own 16 KiB.</summary>
    public int MaxPdu { get; init; } = 16384;

    /// <summary>Arguments appended before the port, e.g. "--sleep-during", "5" or "--abort-after".</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The port to listen on; null picks a free one. Set it to bring a peer up where a client already points (a destination that was down).</summary>
    public int? Port { get; init; }
}

/// <summary>
/// dcmtk storescp as a reference Storage SCP on a free port, writing into a temp directory.
/// Note: storescp 3.6.7 has no bind-address option and listens on all interfaces; the tests
/// only ever connect to it through 127.0.0.1.
/// </summary>
public sealed class DcmtkStoreScp : IDisposable, IAsyncDisposable
{
    private readonly ExternalProcess _process;
    private readonly TempDirectory _directory;

    private DcmtkStoreScp(ExternalProcess process, TempDirectory directory, string aeTitle, int port)
    {
        _process = process;
        _directory = directory;
        AeTitle = aeTitle;
        Port = port;
    }

    public string AeTitle { get; }

    public string Host => Tools.Loopback;

    public int Port { get; }

    /// <summary>Where storescp writes received objects, named like MR.&lt;SOP Instance UID&gt;.</summary>
    public string OutputDirectory => _directory.Combine("received");

    public string Output => _process.CombinedOutput;

    public int ProcessId => _process.Id;

    public static async Task<DcmtkStoreScp> StartAsync(
        string aeTitle = "STORESCP",
        StoreScpOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new StoreScpOptions();
        var directory = new TempDirectory("spineseg-storescp");
        ExternalProcess? process = null;
        try
        {
            var outputDirectory = directory.Combine("received");
            Directory.CreateDirectory(outputDirectory);
            var port = options.Port ?? FreePort.Get();
            var args = new List<string>
            {
                // -v so that association/PC negotiation details end up in failure messages.
                "-v",
                "--aetitle", aeTitle,
                "--output-directory", outputDirectory,
                "--max-pdu", options.MaxPdu.ToString(CultureInfo.InvariantCulture),
                // Reverse DNS on 127.0.0.1 can stall a minute on machines without a resolver.
                "--disable-host-lookup",
            };
            if (options.AcceptAllTransferSyntaxes)
            {
                args.Add("+xa");
            }

            if (options.UniqueFileNames)
            {
                args.Add("+uf");
            }

            if (options.Promiscuous)
            {
                args.Add("-pm");
            }

            args.AddRange(options.ExtraArguments);
            args.Add(port.ToString(CultureInfo.InvariantCulture));

            process = ExternalProcess.Start(Tools.Storescp, args, directory.Path, Tools.DcmtkEnvironment);
            await PeerReadiness.WaitAsync(
                process,
                ct => PeerReadiness.AcceptsTcpAsync(port, ct),
                options.StartupTimeout,
                $"storescp on port {port}",
                cancellationToken).ConfigureAwait(false);
            return new DcmtkStoreScp(process, directory, aeTitle, port);
        }
        catch
        {
            process?.Dispose();
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Files received so far, sorted by name.</summary>
    public IReadOnlyList<string> ReceivedFiles() =>
        Directory.Exists(OutputDirectory)
            ? Directory.EnumerateFiles(OutputDirectory).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>
    /// Waits until at least <paramref name="count"/> files exist. Needed when the sender is
    /// not a tool that returns only after the last C-STORE-RSP (e.g. our own async SCU or Orthanc jobs).
    /// </summary>
    public async Task<IReadOnlyList<string>> WaitForFilesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var files = ReceivedFiles();
            if (files.Count >= count)
            {
                return files;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"storescp received {files.Count} of {count} files within {timeout.TotalSeconds:F0} s.\n{Output}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        try
        {
            _process.Dispose();
        }
        finally
        {
            _directory.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
