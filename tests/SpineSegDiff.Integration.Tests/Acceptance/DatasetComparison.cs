using System.Globalization;
using System.Text;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>One sent file and the file a peer stored for it (matched by SOP Instance UID).</summary>
public sealed record SentAndStored(string SopInstanceUid, string Sent, string Stored);

/// <summary>
/// "What arrived equals what was sent", checked twice: with our reader (<see cref="DicomDataset.FirstDifference"/>)
/// and independently with pydicom through tools/compare-datasets.py. Also linked into SpineSegDiff.Cli.Tests.
/// </summary>
public static class DatasetComparison
{
    public const string ImplicitVrLittleEndian = "1.2.840.10008.1.2";
    public const string ExplicitVrLittleEndian = "1.2.840.10008.1.2.1";

    /// <summary>Every n-th pair (in SOP Instance UID order) also goes through the compare script as its own process.</summary>
    public const int ScriptSampleInterval = 20;

    private static readonly DicomTag MediaStorageSopInstanceUid = new(0x0002, 0x0003);
    private static readonly DicomTag TransferSyntaxUid = new(0x0002, 0x0010);
    private static readonly DicomTag SopInstanceUidTag = new(0x0008, 0x0018);

    /// <summary>
    /// Loads tools/compare-datasets.py as a module and applies its differences() to every pair listed in a file, in
    /// one python process (one process per pair costs ~0.2 s each). Prints "compared N different M".
    /// </summary>
    private const string BatchCompareProgram = """
        import importlib.util, sys
        import pydicom
        spec = importlib.util.spec_from_file_location("compare_datasets", sys.argv[1])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        compared = different = 0
        with open(sys.argv[2], encoding="utf-8") as pairs:
            for line in pairs:
                first, second = line.rstrip("\n").split("\t")
                a, b = pydicom.dcmread(first), pydicom.dcmread(second)
                diffs = module.differences(a, b, swap=a.is_little_endian != b.is_little_endian)
                compared += 1
                if diffs:
                    different += 1
                    print(f"DIFF {first} {second}: {diffs[:5]}")
        print(f"compared {compared} different {different}")
        sys.exit(1 if different else 0)
        """;

    public static string CompareScriptPath => Path.Combine(FixtureGenerator.RepositoryRoot(), "tools", "compare-datasets.py");

    /// <summary>The SOP Instance UID of a Part 10 file, read by our reader from its dataset.</summary>
    public static string SopInstanceUidOf(string path) =>
        DicomFile.Open(path, DicomReadOptions.HeaderOnly).Dataset.GetString(SopInstanceUidTag)
        ?? throw new InvalidDataException($"{path} has no SOP Instance UID.");

    /// <summary>(0002,0010) of a Part 10 file.</summary>
    public static string? MetaTransferSyntaxOf(string path)
    {
        using var stream = File.OpenRead(path);
        return DicomFile.ReadMeta(stream, DicomReadOptions.Default, out _).GetString(TransferSyntaxUid);
    }

    /// <summary>(0002,0003) of a Part 10 file.</summary>
    public static string? MetaSopInstanceUidOf(string path)
    {
        using var stream = File.OpenRead(path);
        return DicomFile.ReadMeta(stream, DicomReadOptions.Default, out _).GetString(MediaStorageSopInstanceUid);
    }

    /// <summary>
    /// Pairs every stored file with the sent file of the same SOP Instance UID; fails unless the stored files are
    /// exactly the sent instances, once each.
    /// </summary>
    public static IReadOnlyList<SentAndStored> Match(IEnumerable<FixtureFile> sent, IReadOnlyCollection<string> storedFiles) =>
        Match(sent.ToDictionary(f => f.SopInstanceUid, f => f.Path, StringComparer.Ordinal), storedFiles);

    /// <summary>As above, for sent files given as SOP Instance UID -> path.</summary>
    public static IReadOnlyList<SentAndStored> Match(IReadOnlyDictionary<string, string> sentByUid, IReadOnlyCollection<string> storedFiles)
    {
        var storedByUid = storedFiles
            .Select(path => (Uid: SopInstanceUidOf(path), Path: path))
            .GroupBy(s => s.Uid, StringComparer.Ordinal)
            .ToList();
        storedByUid.Where(g => g.Count() > 1).Select(g => g.Key).Should().BeEmpty("each instance must be stored once");
        storedByUid.Select(g => g.Key).Should().BeEquivalentTo(sentByUid.Keys, "the stored instances must be exactly the sent ones");
        storedFiles.Should().HaveCount(sentByUid.Count);
        return storedByUid
            .Select(g => new SentAndStored(g.Key, sentByUid[g.Key], g.Single().Path))
            .OrderBy(p => p.SopInstanceUid, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Our reader: the stored dataset must equal the sent one element by element (tag, VR, bytes, nested items).</summary>
    public static void AssertEqualByOurReader(IReadOnlyList<SentAndStored> pairs)
    {
        pairs.Should().NotBeEmpty();
        var failures = new List<string>();
        foreach (var pair in pairs)
        {
            var sent = DicomFile.Open(pair.Sent).Dataset;
            var stored = DicomFile.Open(pair.Stored).Dataset;
            if (stored.Count == 0)
            {
                failures.Add($"{pair.Stored}: empty dataset");
            }
            else if (stored.FirstDifference(sent) is { } difference)
            {
                failures.Add($"{pair.Stored} vs {pair.Sent}: {difference}");
            }
        }

        failures.Should().BeEmpty();
    }

    /// <summary>
    /// pydicom: all pairs through compare-datasets.py's comparison in one process, and every
    /// <see cref="ScriptSampleInterval"/>-th pair (at least one) through the script itself.
    /// </summary>
    public static async Task AssertEqualByPydicomAsync(IReadOnlyList<SentAndStored> pairs, string workDirectory, CancellationToken cancellationToken)
    {
        pairs.Should().NotBeEmpty();
        var (compared, report) = await CompareAllWithPydicomAsync(pairs, workDirectory, cancellationToken);
        compared.Should().Be(pairs.Count, report);

        var sample = pairs.Where((_, i) => i % ScriptSampleInterval == 0).ToList();
        var results = await RunCompareScriptAsync(sample, cancellationToken);
        results.Should().HaveCount(sample.Count);
        results.Where(r => r.ExitCode != 0).Select(r => r.ToString()).Should().BeEmpty();
    }

    /// <summary>Runs the batch comparison; fails on any difference and returns how many pairs it compared.</summary>
    public static async Task<(int Compared, string Report)> CompareAllWithPydicomAsync(
        IReadOnlyList<SentAndStored> pairs, string workDirectory, CancellationToken cancellationToken, bool expectEqual = true)
    {
        var list = Path.Combine(workDirectory, $"pairs-{Guid.NewGuid():N}.tsv");
        await File.WriteAllLinesAsync(list, pairs.Select(p => $"{p.Sent}\t{p.Stored}"), new UTF8Encoding(false), cancellationToken);
        var result = await ExternalProcess.RunAsync(
            Tools.SystemPython, ["-c", BatchCompareProgram, CompareScriptPath, list], TimeSpan.FromMinutes(2), cancellationToken);
        var summary = result.StandardOutput.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("compared ", StringComparison.Ordinal));
        summary.Should().NotBeNull(result.ToString());
        var words = summary!.Split(' ');
        var compared = int.Parse(words[1], CultureInfo.InvariantCulture);
        var different = int.Parse(words[3], CultureInfo.InvariantCulture);
        if (expectEqual)
        {
            result.ExitCode.Should().Be(0, result.ToString());
            different.Should().Be(0, result.ToString());
        }
        else
        {
            result.ExitCode.Should().Be(1, result.ToString());
            different.Should().Be(pairs.Count, result.ToString());
        }

        return (compared, result.ToString());
    }

    /// <summary>tools/compare-datasets.py SENT STORED, one process per pair (exit 0 equal, 1 different, 2 unreadable).</summary>
    public static async Task<IReadOnlyList<ProcessResult>> RunCompareScriptAsync(IReadOnlyList<SentAndStored> pairs, CancellationToken cancellationToken)
    {
        var results = new ProcessResult[pairs.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, pairs.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, 4), CancellationToken = cancellationToken },
            async (i, ct) => results[i] = await ExternalProcess.RunAsync(
                Tools.SystemPython, [CompareScriptPath, pairs[i].Sent, pairs[i].Stored], TimeSpan.FromSeconds(60), ct));
        return results;
    }

    /// <summary>Files below a folder (recursively), e.g. an instance store's or storescp's output.</summary>
    public static IReadOnlyList<string> FilesBelow(string directory, string pattern = "*") =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, pattern, SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
}
