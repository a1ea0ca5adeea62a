using System.Globalization;
using System.Reflection;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// Runs the spineseg CLI as its own process: <c>dotnet spineseg.dll ...</c>, using the spineseg.dll built with this
/// test project (same configuration; recorded at build time by the project reference in the .csproj).
/// </summary>
internal static class CliProcess
{
    public static string DllPath { get; } = FindDll();

    /// <summary>The dotnet host that runs these tests, so the CLI runs on the same runtime.</summary>
    public static string DotnetHost { get; } = FindHost();

    public static Task<ProcessResult> RunAsync(
        IEnumerable<string> arguments,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null) =>
        ExternalProcess.RunAsync(DotnetHost, [DllPath, .. arguments], timeout, cancellationToken, workingDirectory, Environment(environment));

    public static ExternalProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        ExternalProcess.Start(DotnetHost, [DllPath, .. arguments], workingDirectory, Environment(environment));

    public static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, string> Environment(IReadOnlyDictionary<string, string>? extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            // Tests run several nodes at once: on the default status port all but one would fail to start. A test
            // that looks at the status page passes its own free port, which overrides this.
            ["SPINESEG_Status__Port"] = "0",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    private static string FindDll()
    {
        var recorded = typeof(CliProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "SpinesegCliPath")?.Value;
        if (string.IsNullOrEmpty(recorded))
        {
            throw new InvalidOperationException("The test assembly does not record where spineseg.dll was built (SpinesegCliPath); rebuild SpineSegDiff.Cli.Tests.");
        }

        if (File.Exists(recorded))
        {
            return recorded;
        }

        // The checkout was moved after the build: the same build output, relative to this checkout.
        var configuration = typeof(CliProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var moved = Path.Combine(FixtureGenerator.RepositoryRoot(), "src", "SpineSegDiff.Cli", "bin", configuration, "net10.0", "spineseg.dll");
        if (File.Exists(moved))
        {
            return moved;
        }

        throw new FileNotFoundException(
            $"spineseg.dll is neither where it was built ({recorded}) nor at {moved}. Build the solution (dotnet build SpineSegDiff.Pacs.sln -c {configuration}) first.", recorded);
    }

    private static string FindHost()
    {
        var fromSdk = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        var self = System.Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        return Tools.Find("dotnet");
    }
}
