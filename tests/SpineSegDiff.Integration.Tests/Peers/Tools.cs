namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>Locates and runs the external reference tools (dcmtk, dicom3tools, Orthanc, python).</summary>
public static class Tools
{
    /// <summary>
    /// Debian's python carries python3-pydicom; the pyenv python first on PATH does not,
    /// so the generator must never be started through a PATH lookup.
    /// </summary>
    public const string SystemPython = "/usr/bin/python3";

    /// <summary>Loopback only: no test may talk to, or listen for, anything off this machine.</summary>
    public const string Loopback = "127.0.0.1";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Environment for every dcmtk-based process (the tools, storescp, and Orthanc, which links
    /// libdcmnet). Debian builds dcmtk with Nagle's algorithm left on, so each small PDU waits for
    /// a delayed ACK: storescu needs ~90 ms per C-STORE instead of ~3 ms on loopback. Benchmarks
    /// against these peers would measure that stall, not our code. TCP_NODELAY=1 turns it off at runtime.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> DcmtkEnvironment =
        new Dictionary<string, string> { ["TCP_NODELAY"] = "1" }.AsReadOnly();

    // sbin is not on every user's PATH but is where Debian puts Orthanc.
    private static readonly string[] ExtraDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    private static readonly string[] OrthancPluginDirectories = ["/usr/share/orthanc/plugins", "/usr/lib/orthanc"];

    public static string Dcmdump => Find("dcmdump");

    public static string Dciodvfy => Find("dciodvfy");

    public static string Echoscu => Find("echoscu");

    public static string Storescu => Find("storescu");

    public static string Storescp => Find("storescp");

    public static string Dcmsend => Find("dcmsend");

    public static string Orthanc => Find("Orthanc");

    /// <summary>Like <c>which</c>, plus the sbin directories; throws naming the package to install.</summary>
    public static string Find(string name) =>
        TryFind(name) ?? throw new FileNotFoundException(
            $"'{name}' not found on PATH or in {string.Join(", ", ExtraDirectories)}. " +
            "Integration tests need dcmtk, dicom3tools, orthanc, orthanc-dicomweb and python3-pydicom (Debian packages).");

    public static string? TryFind(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/'))
        {
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Concat(ExtraDirectories))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The orthanc-dicomweb plugin library, or null when the package is missing.</summary>
    public static string? FindOrthancDicomWebPlugin()
    {
        foreach (var dir in OrthancPluginDirectories.Where(Directory.Exists))
        {
            var match = Directory.EnumerateFiles(dir, "libOrthancDicomWeb.so*").Order(StringComparer.Ordinal).FirstOrDefault();
            if (match is not null)
            {
                return match;
            }
        }

        return null;
    }

    /// <summary>Runs any tool found by <see cref="Find"/>, with <see cref="DcmtkEnvironment"/>.</summary>
    public static Task<ProcessResult> RunAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken = default, TimeSpan? timeout = null) =>
        ExternalProcess.RunAsync(Find(tool), arguments, timeout ?? DefaultTimeout, cancellationToken, environment: DcmtkEnvironment);

    /// <summary>dcmdump a file; exit code 0 means dcmtk parsed it. Extra args go before the file.</summary>
    public static Task<ProcessResult> DcmdumpAsync(string file, CancellationToken cancellationToken = default, params string[] extraArguments) =>
        ExternalProcess.RunAsync(Dcmdump, [.. extraArguments, file], DefaultTimeout, cancellationToken, environment: DcmtkEnvironment);

    /// <summary>
    /// dicom3tools IOD validation. Exit code is 0 when only warnings were found and 1 when
    /// there are errors; the findings are in the output (dciodvfy writes them to stderr).
    /// dciodvfy cannot read deflated transfer syntax: convert such files first.
    /// </summary>
    public static Task<ProcessResult> DciodvfyAsync(string file, CancellationToken cancellationToken = default) =>
        ExternalProcess.RunAsync(Dciodvfy, [file], DefaultTimeout, cancellationToken, environment: DcmtkEnvironment);

    /// <summary>C-ECHO with dcmtk echoscu.</summary>
    public static Task<ProcessResult> EchoscuAsync(
        int port,
        string calledAeTitle,
        string callingAeTitle = "ECHOSCU",
        string host = Loopback,
        CancellationToken cancellationToken = default,
        params string[] extraArguments) =>
        ExternalProcess.RunAsync(
            Echoscu,
            ["-aet", callingAeTitle, "-aec", calledAeTitle, .. extraArguments, host, port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            DefaultTimeout,
            cancellationToken,
            environment: DcmtkEnvironment);

    /// <summary>
    /// C-STORE with dcmtk storescu, all files on one association. Extra args come before the
    /// peer address, e.g. "-xi" (implicit only), "+sd" (scan directories), "-nh" (no halt).
    /// </summary>
    public static Task<ProcessResult> StorescuAsync(
        int port,
        string calledAeTitle,
        IEnumerable<string> files,
        string callingAeTitle = "STORESCU",
        IEnumerable<string>? extraArguments = null,
        string host = Loopback,
        CancellationToken cancellationToken = default,
        TimeSpan? timeout = null) =>
        ExternalProcess.RunAsync(
            Storescu,
            ["-aet", callingAeTitle, "-aec", calledAeTitle, .. extraArguments ?? [], host, port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. files],
            timeout ?? DefaultTimeout,
            cancellationToken,
            environment: DcmtkEnvironment);

    /// <summary>
    /// C-STORE with dcmtk dcmsend, which (unlike storescu) negotiates presentation contexts per
    /// SOP class/transfer syntax found in the files and can decompress when needed.
    /// </summary>
    public static Task<ProcessResult> DcmsendAsync(
        int port,
        string calledAeTitle,
        IEnumerable<string> files,
        string callingAeTitle = "DCMSEND",
        IEnumerable<string>? extraArguments = null,
        string host = Loopback,
        CancellationToken cancellationToken = default,
        TimeSpan? timeout = null) =>
        ExternalProcess.RunAsync(
            Dcmsend,
            ["--aetitle", callingAeTitle, "--call", calledAeTitle, .. extraArguments ?? [], host, port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. files],
            timeout ?? DefaultTimeout,
            cancellationToken,
            environment: DcmtkEnvironment);

    private static bool IsExecutable(string file) =>
        OperatingSystem.IsWindows() ||
        (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
