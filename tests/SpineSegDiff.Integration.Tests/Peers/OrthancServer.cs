using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>A DICOM peer Orthanc may talk to, as configured in its DicomModalities.</summary>
public sealed record OrthancModality(string AeTitle, int Port, string Host = Tools.Loopback);

/// <summary>Options for <see cref="OrthancServer"/>.</summary>
public sealed record OrthancOptions
{
    public string AeTitle { get; init; } = "ORTHANC";

    /// <summary>Modalities by symbolic name (the name used in /modalities/{name}/...).</summary>
    public IReadOnlyDictionary<string, OrthancModality> Modalities { get; init; } = new Dictionary<string, OrthancModality>();

    public bool EnableDicomWeb { get; init; } = true;

    /// <summary>Orthanc --verbose: logs every association, useful when a peer test fails.</summary>
    public bool Verbose { get; init; }

    /// <summary>Orthanc's own default; applies to files without Specific Character Set.</summary>
    public string DefaultEncoding { get; init; } = "Latin1";

    /// <summary>Top-level configuration keys that override the generated ones.</summary>
    public IReadOnlyDictionary<string, JsonNode?> ExtraConfiguration { get; init; } = new Dictionary<string, JsonNode?>();

    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A throw-away Orthanc (DICOM + REST + DICOMweb) with its database in a temp directory.
/// Orthanc 1.10 cannot bind its DICOM port to one interface; it listens on all of them,
/// but RemoteAccessAllowed=false keeps the REST API local and tests only use 127.0.0.1.
/// </summary>
public sealed class OrthancServer : IDisposable, IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly OrthancOptions _options;
    private ExternalProcess _process;
    private readonly HttpClient _http;

    private OrthancServer(ExternalProcess process, TempDirectory directory, HttpClient http, OrthancOptions options, int dicomPort, int httpPort, string configPath)
    {
        _process = process;
        _options = options;
        _directory = directory;
        _http = http;
        AeTitle = options.AeTitle;
        DicomPort = dicomPort;
        HttpPort = httpPort;
        ConfigurationPath = configPath;
    }

    public string AeTitle { get; }

    public string Host => Tools.Loopback;

    public int DicomPort { get; }

    public int HttpPort { get; }

    public string ConfigurationPath { get; }

    public Uri BaseUri => _http.BaseAddress!;

    /// <summary>QIDO-RS / WADO-RS / STOW-RS root of the DICOMweb plugin.</summary>
    public Uri DicomWebUri => new(BaseUri, "dicom-web/");

    /// <summary>Client bound to <see cref="BaseUri"/>, for REST calls without a helper here.</summary>
    public HttpClient Http => _http;

    public string Output => _process.CombinedOutput;

    public int ProcessId => _process.Id;

    public static async Task<OrthancServer> StartAsync(OrthancOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new OrthancOptions();
        var directory = new TempDirectory("spineseg-orthanc");
        ExternalProcess? process = null;
        HttpClient? http = null;
        try
        {
            var ports = FreePort.Get(2);
            var (dicomPort, httpPort) = (ports[0], ports[1]);
            var config = BuildConfiguration(options, directory, dicomPort, httpPort);
            var configPath = directory.Combine("orthanc.json");
            await File.WriteAllTextAsync(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);

            http = new HttpClient { BaseAddress = new Uri($"http://{Tools.Loopback}:{httpPort}/"), Timeout = TimeSpan.FromSeconds(60) };
            process = await LaunchAsync(options, directory.Path, configPath, http, dicomPort, cancellationToken).ConfigureAwait(false);
            return new OrthancServer(process, directory, http, options, dicomPort, httpPort, configPath);
        }
        catch
        {
            http?.Dispose();
            process?.Dispose();
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Whether the Orthanc process is running (false between <see cref="Stop"/> and <see cref="StartAgainAsync"/>).</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>Kills Orthanc (the PACS going down) and keeps its storage and index for <see cref="StartAgainAsync"/>.</summary>
    public void Stop() => _process.Stop();

    /// <summary>Starts Orthanc again on the same ports, storage and index, and waits until it answers.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("Orthanc is still running.");
        }
        var previous = _process;
        _process = await LaunchAsync(_options, _directory.Path, ConfigurationPath, _http, DicomPort, cancellationToken).ConfigureAwait(false);
        previous.Dispose();
    }

    private static async Task<ExternalProcess> LaunchAsync(OrthancOptions options, string directory, string configPath, HttpClient http, int dicomPort, CancellationToken cancellationToken)
    {
        var args = new List<string>();
        if (options.Verbose)
        {
            args.Add("--verbose");
        }

        args.Add(configPath);
        var process = ExternalProcess.Start(Tools.Orthanc, args, directory, Tools.DcmtkEnvironment);
        try
        {
            await PeerReadiness.WaitAsync(
                process,
                async ct =>
                {
                    using var response = await http.GetAsync("system", ct).ConfigureAwait(false);
                    // The HTTP server comes up after the DICOM server, but check both to be independent of that order.
                    return response.IsSuccessStatusCode && await PeerReadiness.AcceptsTcpAsync(dicomPort, ct).ConfigureAwait(false);
                },
                options.StartupTimeout,
                $"Orthanc (DICOM {dicomPort}, HTTP {http.BaseAddress!.Port})",
                cancellationToken).ConfigureAwait(false);
            return process;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>Orthanc IDs of all stored instances.</summary>
    public async Task<IReadOnlyList<string>> ListInstancesAsync(CancellationToken cancellationToken = default) =>
        ToStringList(await GetJsonAsync("instances", cancellationToken).ConfigureAwait(false));

    public async Task<int> CountInstancesAsync(CancellationToken cancellationToken = default)
    {
        var stats = await GetJsonAsync("statistics", cancellationToken).ConfigureAwait(false);
        return stats.GetProperty("CountInstances").GetInt32();
    }

    /// <summary>The stored DICOM file (Part 10, as Orthanc received it).</summary>
    public async Task<byte[]> GetInstanceFileAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync($"instances/{Uri.EscapeDataString(instanceId)}/file", cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>/instances/{id}/simplified-tags: keyword -> string / array / nested objects.</summary>
    public Task<JsonElement> GetInstanceTagsAsync(string instanceId, CancellationToken cancellationToken = default) =>
        GetJsonAsync($"instances/{Uri.EscapeDataString(instanceId)}/simplified-tags", cancellationToken);

    /// <summary>POST /tools/find at "Patient", "Study", "Series" or "Instance" level; returns Orthanc IDs.</summary>
    public async Task<IReadOnlyList<string>> FindAsync(string level, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["Level"] = level,
            ["Query"] = ToJsonObject(query),
            ["Expand"] = false,
        };
        return ToStringList(await PostJsonAsync("tools/find", body, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// C-STORE SCU from Orthanc to a configured modality, synchronously: the call returns
    /// after the association completes and fails (HTTP 500 with details) if a store failed.
    /// </summary>
    public Task<JsonElement> StoreToModalityAsync(string modality, IEnumerable<string> instanceIds, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["Resources"] = new JsonArray(instanceIds.Select(id => (JsonNode?)JsonValue.Create(id)).ToArray()),
            ["Synchronous"] = true,
        };
        return PostJsonAsync($"modalities/{Uri.EscapeDataString(modality)}/store", body, cancellationToken);
    }

    /// <summary>C-ECHO SCU from Orthanc; true when the modality answered with success.</summary>
    public async Task<bool> EchoModalityAsync(string modality, CancellationToken cancellationToken = default)
    {
        using var content = JsonContent.Create(new JsonObject());
        using var response = await _http.PostAsync($"modalities/{Uri.EscapeDataString(modality)}/echo", content, cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    /// <summary>
    /// C-FIND SCU from Orthanc against a modality; returns the answers as simplified-tag objects.
    /// </summary>
    public async Task<JsonElement> QueryModalityAsync(string modality, string level, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["Level"] = level, ["Query"] = ToJsonObject(query) };
        var created = await PostJsonAsync($"modalities/{Uri.EscapeDataString(modality)}/query", body, cancellationToken).ConfigureAwait(false);
        var queryId = created.GetProperty("ID").GetString()!;
        return await GetJsonAsync($"queries/{Uri.EscapeDataString(queryId)}/answers?expand&simplify", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// C-MOVE SCU from Orthanc: asks <paramref name="modality"/> to send the identified resources
    /// to <paramref name="targetAeTitle"/> (Orthanc itself when null). Each resource is a
    /// dictionary of identifying keys, e.g. { "StudyInstanceUID": "1.2..." }.
    /// </summary>
    public Task<JsonElement> MoveFromModalityAsync(
        string modality,
        string level,
        IEnumerable<IReadOnlyDictionary<string, string>> resources,
        string? targetAeTitle = null,
        CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["Level"] = level,
            ["Resources"] = new JsonArray(resources.Select(r => (JsonNode?)ToJsonObject(r)).ToArray()),
            ["Synchronous"] = true,
        };
        if (targetAeTitle is not null)
        {
            body["TargetAet"] = targetAeTitle;
        }

        return PostJsonAsync($"modalities/{Uri.EscapeDataString(modality)}/move", body, cancellationToken);
    }

    /// <summary>Registers or replaces a modality at runtime (kept in memory only).</summary>
    public async Task AddModalityAsync(string name, OrthancModality modality, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["AET"] = modality.AeTitle, ["Host"] = modality.Host, ["Port"] = modality.Port };
        using var content = JsonContent.Create(body);
        using var response = await _http.PutAsync($"modalities/{Uri.EscapeDataString(name)}", content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores a Part 10 file through REST (no DICOM association); returns Orthanc's answer (ID, Status).</summary>
    public async Task<JsonElement> UploadInstanceAsync(byte[] dicomFile, CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(dicomFile);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        using var response = await _http.PostAsync("instances", content, cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
    }

    public async Task<JsonElement> GetJsonAsync(string relativeUri, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(relativeUri, cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
    }

    public async Task<JsonElement> PostJsonAsync(string relativeUri, JsonNode body, CancellationToken cancellationToken = default)
    {
        using var content = JsonContent.Create(body);
        using var response = await _http.PostAsync(relativeUri, content, cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        try
        {
            _http.Dispose();
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

    private static JsonObject BuildConfiguration(OrthancOptions options, TempDirectory directory, int dicomPort, int httpPort)
    {
        var modalities = new JsonObject();
        foreach (var (name, modality) in options.Modalities)
        {
            modalities[name] = new JsonArray(modality.AeTitle, modality.Host, modality.Port);
        }

        var config = new JsonObject
        {
            ["Name"] = "SpineSegDiff test peer",
            ["StorageDirectory"] = directory.Combine("storage"),
            ["IndexDirectory"] = directory.Combine("index"),
            ["StorageCompression"] = false,
            ["DicomServerEnabled"] = true,
            ["DicomAet"] = options.AeTitle,
            ["DicomPort"] = dicomPort,
            ["DicomCheckCalledAet"] = false,
            ["DicomCheckModalityHost"] = false,
            ["DicomAlwaysAllowEcho"] = true,
            ["DicomAlwaysAllowStore"] = true,
            ["DefaultEncoding"] = options.DefaultEncoding,
            ["DicomModalities"] = modalities,
            ["DicomModalitiesInDatabase"] = false,
            ["HttpServerEnabled"] = true,
            ["HttpPort"] = httpPort,
            ["HttpDescribeErrors"] = true,
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = false,
            ["SslEnabled"] = false,
            ["DicomTlsEnabled"] = false,
            ["OrthancExplorerEnabled"] = false,
            ["WebDavEnabled"] = false,
            // Jobs from a previous (killed) peer must never be resumed, and the DB is throw-away anyway.
            ["SaveJobs"] = false,
            ["DicomScuTimeout"] = 30,
            ["DicomScpTimeout"] = 30,
            ["Plugins"] = new JsonArray(),
        };

        if (options.EnableDicomWeb)
        {
            var plugin = Tools.FindOrthancDicomWebPlugin()
                ?? throw new FileNotFoundException("Orthanc DICOMweb plugin not found; install the orthanc-dicomweb package.");
            config["Plugins"] = new JsonArray(plugin);
            config["DicomWeb"] = new JsonObject
            {
                ["Enable"] = true,
                ["Root"] = "/dicom-web/",
                ["EnableWado"] = true,
                ["WadoRoot"] = "/wado",
                ["Host"] = $"{Tools.Loopback}:{httpPort.ToString(CultureInfo.InvariantCulture)}",
                ["Ssl"] = false,
            };
        }

        foreach (var (key, value) in options.ExtraConfiguration)
        {
            config[key] = value?.DeepClone();
        }

        return config;
    }

    private static JsonObject ToJsonObject(IReadOnlyDictionary<string, string> values)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in values)
        {
            obj[key] = value;
        }

        return obj;
    }

    private static IReadOnlyList<string> ToStringList(JsonElement array) =>
        array.EnumerateArray().Select(e => e.GetString() ?? string.Empty).ToList();

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        // Clone so the element outlives the pooled document buffers.
        return document.RootElement.Clone();
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        // Orthanc's HttpDescribeErrors body says which DICOM step failed; keep it in the exception.
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw new HttpRequestException(
            $"Orthanc {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} -> {(int)response.StatusCode} {response.StatusCode}\n{body}",
            null,
            response.StatusCode);
    }
}
