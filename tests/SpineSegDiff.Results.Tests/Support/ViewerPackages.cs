using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Results.Tests.Support;

/// <summary>
/// The npm side of the independent checks (tests/viewer): dcmjs verifiers, the OHIF dist and puppeteer-core, run
/// with node from the checkout. Missing packages fail the test with what to run: a check that silently skips when
/// its reader is absent would pass on exactly the machines where nobody looked.
/// </summary>
public static class ViewerPackages
{
    private const string SolutionFileName = "SpineSegDiff.Pacs.sln";

    /// <summary>tests/viewer of the checkout these test binaries were built from.</summary>
    public static string Folder { get; } = Path.Combine(RepositoryRoot(), "tests", "viewer");

    public static string Node => Tools.TryFind("node")
        ?? throw new FileNotFoundException("node is not installed; run scripts/setup.sh (it installs nodejs and the viewer packages).");

    public static string Chromium => Tools.TryFind("chromium")
        ?? throw new FileNotFoundException("chromium is not installed; run scripts/setup.sh (it installs Debian's chromium).");

    public static string OhifDist => Path.Combine(Folder, "node_modules", "@ohif", "app", "dist");

    public static string Script(string name) => Path.Combine(Folder, name);

    /// <summary>Throws, saying to run scripts/setup.sh, unless npm installed what the checks need.</summary>
    public static void EnsureInstalled()
    {
        string[] required =
        [
            Path.Combine("node_modules", "dcmjs", "package.json"),
            Path.Combine("node_modules", "puppeteer-core", "package.json"),
            Path.Combine("node_modules", "@ohif", "app", "dist", "index.html"),
        ];
        var missing = required.Where(r => !File.Exists(Path.Combine(Folder, r))).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The viewer test packages are not installed in {Folder} (missing {string.Join(", ", missing)}). " +
                "Run scripts/setup.sh (or bash tests/viewer/install.sh) first.");
        }
    }

    /// <summary>Runs a script of tests/viewer with node, from that folder (so its node_modules resolve).</summary>
    public static Task<ProcessResult> RunAsync(string script, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        EnsureInstalled();
        return ExternalProcess.RunAsync(Node, [Script(script), .. arguments], timeout, workingDirectory: Folder, environment: environment);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFileName)))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No {SolutionFileName} above {AppContext.BaseDirectory}: the viewer checks run from a checkout.");
    }
}

/// <summary>The two independent verifiers, pydicom and dcmjs, behind one call with the same arguments.</summary>
public static class IndependentVerifiers
{
    public const string Pydicom = "pydicom";
    public const string Dcmjs = "dcmjs";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static TheoryData<string> Readers => new() { Pydicom, Dcmjs };

    /// <summary>verify_seg over a SEG file: <paramref name="expected"/> is written as the raw file it compares with.</summary>
    public static async Task<ProcessResult> VerifySegAsync(string reader, string segPath, byte[] expected, string mapping, SourceSeries source, TempDirectory temp)
    {
        var raw = temp.Combine($"expected-{Guid.NewGuid():N}.raw");
        await File.WriteAllBytesAsync(raw, expected);
        string[] arguments = [segPath, raw, mapping, .. source.Files];
        return reader switch
        {
            Pydicom => await ExternalProcess.RunAsync(Tools.SystemPython, [PythonScript("verify_seg.py"), .. arguments], Timeout),
            Dcmjs => await ViewerPackages.RunAsync("verify_seg.mjs", arguments, Timeout),
            _ => throw new ArgumentOutOfRangeException(nameof(reader), reader, null),
        };
    }

    /// <summary>verify_sc over a series of Secondary Captures.</summary>
    public static async Task<ProcessResult> VerifyScAsync(string reader, IEnumerable<string> scPaths, SourceSeries source)
    {
        string[] arguments = [.. scPaths, "--", .. source.Files];
        return reader switch
        {
            Pydicom => await ExternalProcess.RunAsync(Tools.SystemPython, [PythonScript("verify_sc.py"), .. arguments], Timeout),
            Dcmjs => await ViewerPackages.RunAsync("verify_sc.mjs", arguments, Timeout),
            _ => throw new ArgumentOutOfRangeException(nameof(reader), reader, null),
        };
    }

    private static string PythonScript(string name) => Path.Combine(AppContext.BaseDirectory, "Verifier", name);
}
