using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>Transfer syntax for <see cref="FixtureGenerator.CreateSeriesAsync"/>.</summary>
public enum FixtureTransferSyntax
{
    ImplicitVrLittleEndian,
    ExplicitVrLittleEndian,
    DeflatedExplicitVrLittleEndian,
    ExplicitVrBigEndian,
}

/// <summary>One file described by tools/make-fixtures.py's manifest.json.</summary>
public sealed record FixtureFile
{
    /// <summary>Absolute path (the manifest stores names relative to its directory).</summary>
    [JsonIgnore]
    public string Path { get; init; } = string.Empty;

    [JsonPropertyName("file")] public required string FileName { get; init; }

    public required string SopClassUid { get; init; }

    public required string SopInstanceUid { get; init; }

    public required string StudyInstanceUid { get; init; }

    public required string SeriesInstanceUid { get; init; }

    public required string PatientId { get; init; }

    public required string PatientName { get; init; }

    public required string TransferSyntaxUid { get; init; }

    /// <summary>pydicom's name, e.g. ExplicitVRLittleEndian.</summary>
    public required string TransferSyntax { get; init; }

    public string? SpecificCharacterSet { get; init; }

    public int Rows { get; init; }

    public int Columns { get; init; }

    public int? InstanceNumber { get; init; }

    /// <summary>Tags such as implicit-vr, deflated, big-endian, utf8, latin1, nested-sequences, private-tags.</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    public required string WrittenBy { get; init; }

    public bool Has(string feature) => Features.Contains(feature, StringComparer.Ordinal);
}

/// <summary>The parsed manifest.json of a generated corpus or series.</summary>
public sealed record FixtureManifest
{
    [JsonIgnore]
    public string Directory { get; init; } = string.Empty;

    public required string Mode { get; init; }

    public required string Pydicom { get; init; }

    public required string UidRoot { get; init; }

    public required IReadOnlyList<FixtureFile> Files { get; init; }

    public IEnumerable<FixtureFile> WithFeature(string feature) => Files.Where(f => f.Has(feature));

    public FixtureFile Single(string fileName) => Files.Single(f => f.FileName == fileName);
}

/// <summary>
/// Runs tools/make-fixtures.py (pydicom, not our toolkit) so that test inputs are produced
/// independently of the code under test.
/// </summary>
public static class FixtureGenerator
{
    public const string SolutionFileName = "SpineSegDiff.Pacs.sln";

    private static readonly JsonSerializerOptions ManifestJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = false,
    };

    /// <summary>The checkout root: the first ancestor of the test binaries holding the solution file.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, SolutionFileName)))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No {SolutionFileName} above {AppContext.BaseDirectory}.");
    }

    public static string ScriptPath => System.IO.Path.Combine(RepositoryRoot(), "tools", "make-fixtures.py");

    /// <summary>Writes the varied corpus (transfer syntaxes, character sets, sequences, private tags) into <paramref name="directory"/>.</summary>
    public static Task<FixtureManifest> CreateCorpusAsync(string directory, CancellationToken cancellationToken = default) =>
        RunAsync(directory, ["corpus"], cancellationToken);

    /// <summary>
    /// Writes one MR series of <paramref name="count"/> instances. UIDs are deterministic per
    /// (seed, count, rows, cols, ts); use different seeds for series that must not collide.
    /// </summary>
    public static Task<FixtureManifest> CreateSeriesAsync(
        string directory,
        int count,
        int rows,
        int cols,
        FixtureTransferSyntax ts = FixtureTransferSyntax.ExplicitVrLittleEndian,
        string? studyUid = null,
        int seed = 1,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        var args = new List<string>
        {
            "series",
            "--count", count.ToString(CultureInfo.InvariantCulture),
            "--rows", rows.ToString(CultureInfo.InvariantCulture),
            "--cols", cols.ToString(CultureInfo.InvariantCulture),
            "--ts", ts switch
            {
                FixtureTransferSyntax.ImplicitVrLittleEndian => "implicit",
                FixtureTransferSyntax.ExplicitVrLittleEndian => "explicit",
                FixtureTransferSyntax.DeflatedExplicitVrLittleEndian => "deflated",
                FixtureTransferSyntax.ExplicitVrBigEndian => "big",
                _ => throw new ArgumentOutOfRangeException(nameof(ts), ts, null),
            },
            "--seed", seed.ToString(CultureInfo.InvariantCulture),
        };
        if (studyUid is not null)
        {
            args.Add("--study-uid");
            args.Add(studyUid);
        }

        return RunAsync(directory, args, cancellationToken);
    }

    /// <summary>Reads a manifest.json written earlier into <paramref name="directory"/>.</summary>
    public static async Task<FixtureManifest> ReadManifestAsync(string directory, CancellationToken cancellationToken = default)
    {
        var full = System.IO.Path.GetFullPath(directory);
        await using var stream = File.OpenRead(System.IO.Path.Combine(full, "manifest.json"));
        var manifest = await JsonSerializer.DeserializeAsync<FixtureManifest>(stream, ManifestJson, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"Empty manifest in {full}.");
        return manifest with
        {
            Directory = full,
            Files = manifest.Files.Select(f => f with { Path = System.IO.Path.Combine(full, f.FileName) }).ToList(),
        };
    }

    private static async Task<FixtureManifest> RunAsync(string directory, IReadOnlyList<string> modeArgs, CancellationToken cancellationToken)
    {
        var full = System.IO.Path.GetFullPath(directory);
        var result = await ExternalProcess.RunAsync(
            Tools.SystemPython,
            [ScriptPath, full, .. modeArgs],
            TimeSpan.FromMinutes(2),
            cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"Fixture generation failed.\n{result}");
        }

        return await ReadManifestAsync(full, cancellationToken).ConfigureAwait(false);
    }
}
