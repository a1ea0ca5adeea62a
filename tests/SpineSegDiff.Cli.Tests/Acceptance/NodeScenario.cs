using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// The hospital in a test: Orthanc as its PACS, with our node registered as the modality <see cref="NodeModality"/>,
/// and the node as its own <c>spineseg serve</c> process exporting results back to that Orthanc.
/// </summary>
internal static class NodeScenario
{
    public const string NodeModality = "SEGNODE";
    public const string NodeAeTitle = "SEGNODE";
    public const string PacsDestination = "hospital-pacs";

    /// <summary>Orthanc knowing the node under <see cref="NodeModality"/> at <paramref name="nodePort"/>.</summary>
    public static Task<OrthancServer> StartPacsAsync(int nodePort, CancellationToken cancellationToken) =>
        OrthancServer.StartAsync(
            new OrthancOptions
            {
                EnableDicomWeb = false,
                Modalities = new Dictionary<string, OrthancModality> { [NodeModality] = new(NodeAeTitle, nodePort) },
            },
            cancellationToken);

    /// <summary>
    /// A node configuration for tests: listens on <paramref name="nodePort"/> (loopback, Orthanc the only allowed
    /// caller), completes a series 2 s after its last instance, routes sagittal lumbar MR with <paramref name="profile"/>
    /// to the PACS, and retries exports every few seconds so a PACS outage in a test is short.
    /// </summary>
    public static JsonObject Configuration(int nodePort, OrthancServer pacs, string profile) => new()
    {
        ["Dicom"] = new JsonObject
        {
            ["AeTitle"] = NodeAeTitle,
            ["Port"] = nodePort,
            ["BindAddress"] = Tools.Loopback,
            ["AllowedCallingAeTitles"] = new JsonArray(pacs.AeTitle),
        },
        ["Gateway"] = new JsonObject
        {
            ["Assembly"] = new JsonObject { ["QuietPeriod"] = "00:00:02", ["PollInterval"] = "00:00:00.200" },
            ["Routing"] = new JsonObject
            {
                ["Rules"] = new JsonArray(new JsonObject
                {
                    ["Name"] = "sagittal-lumbar-mr",
                    ["Modality"] = "MR",
                    ["BodyParts"] = new JsonArray("LSPINE", "SPINE", "L-SPINE"),
                    ["RequireSagittal"] = true,
                    ["MinimumSlices"] = 5,
                    ["Profile"] = profile,
                    ["Destinations"] = new JsonArray(PacsDestination),
                }),
            },
        },
        ["Export"] = new JsonObject
        {
            ["Destinations"] = new JsonArray(new JsonObject
            {
                ["Name"] = PacsDestination,
                ["Kind"] = "Dicom",
                ["Host"] = Tools.Loopback,
                ["Port"] = pacs.DicomPort,
                ["CalledAeTitle"] = pacs.AeTitle,
                ["CallingAeTitle"] = NodeAeTitle,
                ["ConnectTimeout"] = "00:00:03",
            }),
            ["PollingInterval"] = "00:00:00.500",
            ["Retry"] = new JsonObject
            {
                ["AttemptsPerRound"] = 2,
                ["BaseDelay"] = "00:00:00.500",
                ["MaxDelay"] = "00:00:01",
                ["NextRoundDelay"] = "00:00:02",
                ["MaxNextRoundDelay"] = "00:00:04",
            },
            ["CircuitBreaker"] = new JsonObject { ["BreakDuration"] = "00:00:02" },
        },
    };

    /// <summary>The bus section for a node on <paramref name="broker"/> (gateway and workers as separate processes).</summary>
    public static JsonObject RabbitMqBus(RabbitMqBroker broker) => new()
    {
        ["Transport"] = "RabbitMq",
        ["RabbitMq"] = new JsonObject { ["Host"] = broker.Host, ["Port"] = broker.AmqpPort },
    };

    public static string ExampleConfigurationPath => Path.Combine(FixtureGenerator.RepositoryRoot(), "config", "node.example.json");

    /// <summary>A node configuration file as the node reads it (JSON with // comments).</summary>
    public static JsonObject ReadConfiguration(string path) =>
        JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!.AsObject();

    /// <summary>Writes a synthetic lumbar study with <c>spineseg phantom</c>; returns its MR files.</summary>
    public static async Task<IReadOnlyList<string>> PhantomAsync(string directory, int seed, CancellationToken cancellationToken, string? contrast = null)
    {
        List<string> arguments = ["phantom", "--out", directory, "--seed", seed.ToString(CultureInfo.InvariantCulture)];
        if (contrast is not null)
        {
            arguments.AddRange(["--contrast", contrast]);
        }
        var phantom = await CliProcess.RunAsync(arguments, TimeSpan.FromMinutes(2), cancellationToken);
        if (phantom.ExitCode != 0)
        {
            throw new InvalidOperationException("spineseg phantom failed: " + phantom);
        }
        return Directory.EnumerateFiles(Path.Combine(directory, "MR"), "*.dcm").Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Puts a study into the PACS (REST upload) and has the PACS send it to the node by C-STORE.</summary>
    public static async Task<string> RouteToNodeAsync(OrthancServer pacs, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        var study = await UploadAsync(pacs, files, cancellationToken);
        await SendToNodeAsync(pacs, study, cancellationToken);
        return study.StudyInstanceUid;
    }

    /// <summary>Puts a study into the PACS by its REST API, as if a modality had sent it there.</summary>
    public static async Task<StudyInPacs> UploadAsync(OrthancServer pacs, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        string? studyUid = null;
        foreach (var file in files)
        {
            var answer = await pacs.UploadInstanceAsync(await File.ReadAllBytesAsync(file, cancellationToken), cancellationToken);
            ids.Add(answer.GetProperty("ID").GetString()!);
            studyUid ??= DicomFile.Open(file).Dataset.GetString(DicomTags.StudyInstanceUID);
        }
        return new StudyInPacs(studyUid ?? throw new ArgumentException("No files.", nameof(files)), ids);
    }

    /// <summary>The PACS sends the study's instances to the node (one association); returns once the last is acknowledged.</summary>
    public static Task SendToNodeAsync(OrthancServer pacs, StudyInPacs study, CancellationToken cancellationToken) =>
        pacs.StoreToModalityAsync(NodeModality, study.InstanceIds, cancellationToken);

    /// <summary>Orthanc ids of the node's results (SEG and OT instances) in the study, once <paramref name="expected"/> are there.</summary>
    public static async Task<IReadOnlyList<string>> WaitForResultsAsync(
        OrthancServer pacs, string studyUid, int expected, TimeSpan timeout, CancellationToken cancellationToken, Func<string>? diagnostics = null, int pollMilliseconds = 250)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = await ResultsInPacsAsync(pacs, studyUid, cancellationToken);
            if (found.Count >= expected)
            {
                return found;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{found.Count} of {expected} results in the PACS after {timeout.TotalSeconds:F0} s.\n{diagnostics?.Invoke()}");
            }
            await Task.Delay(pollMilliseconds, cancellationToken);
        }
    }

    public static async Task<IReadOnlyList<string>> ResultsInPacsAsync(OrthancServer pacs, string studyUid, CancellationToken cancellationToken)
    {
        var found = new List<string>();
        foreach (var modality in (string[])["SEG", "OT"])
        {
            found.AddRange(await pacs.FindAsync("Instance", new Dictionary<string, string> { ["StudyInstanceUID"] = studyUid, ["Modality"] = modality }, cancellationToken));
        }
        return found;
    }

    /// <summary>Whether a log line of the given event id mentions <paramref name="text"/> (any line of that id when null).</summary>
    public static bool LogHas(string output, int eventId, string? text = null) =>
        output.Split('\n').Any(line => line.Contains($"[{eventId}]", StringComparison.Ordinal) && (text is null || line.Contains(text, StringComparison.Ordinal)));
}

/// <summary>A study in the PACS: its Study Instance UID and the PACS's ids of its instances.</summary>
internal sealed record StudyInPacs(string StudyInstanceUid, IReadOnlyList<string> InstanceIds);

/// <summary>A <c>spineseg serve</c> process with a configuration file written for the test.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private NodeProcess(ExternalProcess process, string storeRoot)
    {
        _process = process;
        StoreRoot = storeRoot;
    }

    public string StoreRoot { get; }

    public int Id => _process.Id;

    public string Output => _process.CombinedOutput;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.ExitCode;

    /// <summary>
    /// Writes <paramref name="configuration"/> into <paramref name="directory"/> and starts the node; returns once it says
    /// "Ready.". The store is <paramref name="directory"/>/store unless <paramref name="storeRoot"/> names one that
    /// several processes share (a gateway and its workers).
    /// </summary>
    public static async Task<NodeProcess> StartAsync(
        JsonObject configuration,
        string directory,
        CancellationToken cancellationToken,
        IReadOnlyList<string>? extraArguments = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string configName = "node.json",
        string? storeRoot = null)
    {
        Directory.CreateDirectory(directory);
        var configPath = Path.Combine(directory, configName);
        await File.WriteAllTextAsync(configPath, configuration.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        storeRoot ??= Path.Combine(directory, "store");
        var process = CliProcess.Start(["serve", "--config", configPath, "--storage", storeRoot, .. extraArguments ?? []], environment);
        var node = new NodeProcess(process, storeRoot);
        try
        {
            await node.WaitForOutputAsync("Ready.", TimeSpan.FromMinutes(2), cancellationToken);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until the node's output contains <paramref name="text"/>; fails if the node exits first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken) =>
        await WaitUntilAsync(() => Output.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout, cancellationToken);

    /// <summary>Waits until <paramref name="condition"/> holds on the node's output; fails if the node exits first.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The node exited with {_process.ExitCode} before {what}.\n{Output}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No {what} from the node in {timeout.TotalSeconds:F0} s.\n{Output}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>SIGTERM, as systemd or docker stop it; returns the exit code.</summary>
    public async Task<int> StopAsync(CancellationToken cancellationToken)
    {
        var kill = await ExternalProcess.RunAsync(Tools.Find("kill"), ["-TERM", Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), cancellationToken);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {Id} failed: {kill}");
        }
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(bounded.Token);
        return _process.ExitCode!.Value;
    }

    /// <summary>SIGKILL: the process dies mid-whatever, as on a power cut or the OOM killer.</summary>
    public void Kill() => _process.Stop();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
