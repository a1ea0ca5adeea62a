using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Cli.Bench;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg bench-store</c>: ingest throughput of our Storage SCP against dcmtk's storescp under the same
/// storescu load in the same run (alternating rounds, so drift in the machine hits both alike), and of our
/// StorageScu against storescu into storescp. Prints instances/s and the ratios; see docs/benchmarks.md.
/// </summary>
internal static class BenchStoreCommand
{
    private const int PduLength = 131072; // dcmtk's largest; both receivers advertise it

    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Instances per round (at least 500 for the published figures).", DefaultValueFactory = _ => 500 };
        var rows = new Option<int>("--rows") { Description = "Rows of each MR image.", DefaultValueFactory = _ => 256 };
        var columns = new Option<int>("--cols") { Description = "Columns of each MR image.", DefaultValueFactory = _ => 256 };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds per target; the median is reported.", DefaultValueFactory = _ => 3 };
        var work = new Option<string?>("--work") { Description = "Working folder (default: a new temporary folder, deleted afterwards)." };
        var command = new Command("bench-store", "Benchmark C-STORE ingest and send against dcmtk on this machine.") { count, rows, columns, rounds, work };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(count), parse.GetValue(rows), parse.GetValue(columns), parse.GetValue(rounds), parse.GetValue(work), ct));
        return command;
    }

    private static async Task<int> RunAsync(int count, int rows, int columns, int rounds, string? workFolder, CancellationToken cancellationToken)
    {
        if (count < 1 || rows < 1 || columns < 1 || rounds < 1 || rows > 4096 || columns > 4096)
        {
            return await ConsoleReport.ConfigurationErrorsAsync(["--count, --rows, --cols and --rounds must be positive (rows and columns at most 4096)."]).ConfigureAwait(false);
        }
        var ownsWork = workFolder is null;
        var work = workFolder ?? Path.Combine(Path.GetTempPath(), "spineseg-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            return await RunInAsync(Path.GetFullPath(work), count, rows, columns, rounds, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (ownsWork && Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static async Task<int> RunInAsync(string work, int count, int rows, int columns, int rounds, CancellationToken cancellationToken)
    {
        var seriesDir = Path.Combine(work, "series");
        Console.WriteLine($"Writing {count} MR instances {rows}x{columns} 16-bit to {seriesDir} ...");
        var files = SyntheticMrSeries.Write(seriesDir, count, rows, columns, DicomTransferSyntax.ExplicitVRLittleEndian);
        var megabytes = files.Sum(f => new FileInfo(f).Length) / 1e6;

        var dcmtkDir = Path.Combine(work, "storescp");
        Directory.CreateDirectory(dcmtkDir);
        var dcmtkPort = LoopbackPort.Free();
        using var storescp = PeerProcess.Start("storescp", ["--aetitle", "STORESCP", "--output-directory", dcmtkDir, "--max-pdu", PduLength.ToString(CultureInfo.InvariantCulture), "+xa", dcmtkPort.ToString(CultureInfo.InvariantCulture)]);
        await storescp.WaitForPortAsync(dcmtkPort, TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);

        await using var durable = await OurNodeAsync(Path.Combine(work, "ours-fsync"), flushToDisk: true, cancellationToken).ConfigureAwait(false);
        await using var unflushed = await OurNodeAsync(Path.Combine(work, "ours-nofsync"), flushToDisk: false, cancellationToken).ConfigureAwait(false);

        var targets = new (string Name, Func<Task<double>> Run)[]
        {
            ("storescu -> dcmtk storescp", () => StorescuAsync("STORESCP", dcmtkPort, seriesDir, dcmtkDir, count, cancellationToken)),
            ("storescu -> our SCP (fsync per instance)", () => StorescuAsync("SEGNODE", durable.Port, seriesDir, durable.Store.InstancesDirectory, count, cancellationToken)),
            ("storescu -> our SCP (no fsync, like storescp)", () => StorescuAsync("SEGNODE", unflushed.Port, seriesDir, unflushed.Store.InstancesDirectory, count, cancellationToken)),
            ("our send -> dcmtk storescp", () => OurSendAsync(dcmtkPort, files, dcmtkDir, count, cancellationToken)),
        };
        var samples = targets.Select(_ => new List<double>()).ToArray();
        for (var round = 1; round <= rounds; round++)
        {
            for (var t = 0; t < targets.Length; t++)
            {
                var rate = await targets[t].Run().ConfigureAwait(false);
                samples[t].Add(rate);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round}: {targets[t].Name,-48} {rate,8:F1} instances/s"));
            }
        }

        var median = samples.Select(Median).ToArray();
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count} instances ({megabytes:F1} MB) per round, {rounds} rounds, median instances/s, {Environment.ProcessorCount} cores:"));
        for (var t = 0; t < targets.Length; t++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {targets[t].Name,-48} {median[t],8:F1}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio ingest ours/storescp (fsync)      {median[1] / median[0]:F2}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio ingest ours/storescp (no fsync)   {median[2] / median[0]:F2}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio send ours/storescu into storescp  {median[3] / median[0]:F2}"));
        return ExitCodes.Success;
    }

    private sealed class OurNode(DicomServer server, InstanceStore store) : IAsyncDisposable
    {
        public InstanceStore Store => store;

        public int Port => server.LocalEndPoint.Port;

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }

    private static async Task<OurNode> OurNodeAsync(string root, bool flushToDisk, CancellationToken cancellationToken)
    {
        var store = new InstanceStore(new InstanceStoreOptions { RootDirectory = root, FlushToDisk = flushToDisk }, NullLogger<InstanceStore>.Instance);
        var server = new DicomServer(new DicomServerOptions { AeTitle = "SEGNODE", Port = 0, BindAddress = "127.0.0.1", MaxPduLength = PduLength }, store, NullLoggerFactory.Instance);
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        return new OurNode(server, store);
    }

    private static async Task<double> StorescuAsync(string calledAet, int port, string seriesDir, string receivedDir, int expected, CancellationToken cancellationToken)
    {
        Clear(receivedDir);
        var sw = Stopwatch.StartNew();
        var (exit, output) = await PeerProcess.RunAsync("storescu",
            ["-aet", "BENCH", "-aec", calledAet, "--max-pdu", PduLength.ToString(CultureInfo.InvariantCulture), "+sd", "+r", "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), seriesDir],
            TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        sw.Stop();
        if (exit != 0)
        {
            throw new InvalidOperationException($"storescu failed (exit {exit}):\n{output}");
        }
        return Rate(expected, sw.Elapsed, receivedDir);
    }

    private static async Task<double> OurSendAsync(int port, IReadOnlyList<string> files, string receivedDir, int expected, CancellationToken cancellationToken)
    {
        Clear(receivedDir);
        var scu = new StorageScu(new DicomClientOptions { CalledAeTitle = "STORESCP", CallingAeTitle = "BENCH", Host = "127.0.0.1", Port = port, MaxPduLength = PduLength });
        var sw = Stopwatch.StartNew();
        var results = await scu.SendAsync(files, cancellationToken).ConfigureAwait(false);
        sw.Stop();
        var failed = results.Count(r => !r.Succeeded);
        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} instances failed: {results.First(r => !r.Succeeded).Error}");
        }
        return Rate(expected, sw.Elapsed, receivedDir);
    }

    private static double Rate(int expected, TimeSpan elapsed, string receivedDir)
    {
        // A benchmark that silently lost instances would flatter whoever lost them.
        var arrived = Directory.EnumerateFiles(receivedDir, "*", SearchOption.AllDirectories).Count(f => !f.EndsWith(".part", StringComparison.Ordinal));
        if (arrived != expected)
        {
            throw new InvalidOperationException($"Expected {expected} stored files in {receivedDir}, found {arrived}.");
        }
        return expected / elapsed.TotalSeconds;
    }

    private static void Clear(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }
    }


    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
