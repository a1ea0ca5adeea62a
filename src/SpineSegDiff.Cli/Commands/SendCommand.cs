using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg send</c>: C-STORE of files and folders (recursively). Prints one line per file; exit 1 when any file
/// was not stored, 3 when the peer could not be reached.
/// </summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var peer = new ClientArguments();
        var paths = new Argument<string[]>("paths") { Description = "DICOM files and folders to send (folders recursively).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("send", "Send DICOM files to a peer by C-STORE.") { paths };
        peer.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = peer.Bind(parse, out var errors);
            var missing = parse.GetValue(paths)!.Where(p => !File.Exists(p) && !Directory.Exists(p)).ToList();
            if (errors.Count > 0 || missing.Count > 0)
            {
                return await ConsoleReport.ConfigurationErrorsAsync(errors.Concat(missing.Select(m => $"{m} does not exist."))).ConfigureAwait(false);
            }
            var files = ExpandPaths(parse.GetValue(paths)!);
            if (files.Count == 0)
            {
                return await ConsoleReport.ConfigurationErrorsAsync(["No files to send."]).ConfigureAwait(false);
            }
            var started = System.Diagnostics.Stopwatch.StartNew();
            IReadOnlyList<StoreFileResult> results;
            try
            {
                results = await new StorageScu(options).SendAsync(files, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DicomNetworkException or SocketException)
            {
                return await ConsoleReport.NetworkFailureAsync("C-STORE", options, ex).ConfigureAwait(false);
            }
            foreach (var result in results)
            {
                var status = result.Status is { } s ? string.Create(CultureInfo.InvariantCulture, $"0x{s:X4}") : "not sent";
                var line = result.Succeeded ? $"OK      {status}  {result.Path}" : $"FAILED  {status}  {result.Path}: {result.Error}";
                await (result.Succeeded ? Console.Out : Console.Error).WriteLineAsync(line).ConfigureAwait(false);
            }
            var stored = results.Count(r => r.Succeeded);
            var seconds = started.Elapsed.TotalSeconds;
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{stored} of {results.Count} stored at {options.CalledAeTitle}@{options.Host}:{options.Port} in {seconds:F2} s ({stored / Math.Max(seconds, 1e-6):F0} instances/s)")).ConfigureAwait(false);
            if (stored == 0 && results.All(r => r.Status is null) && results.Any(r => r.Error?.Contains("connect", StringComparison.OrdinalIgnoreCase) == true))
            {
                return ExitCodes.Unreachable;
            }
            return stored == results.Count ? ExitCodes.Success : ExitCodes.OperationFailed;
        });
        return command;
    }

    /// <summary>Files as given, and every file below each folder, in a stable order; hidden files are skipped.</summary>
    internal static List<string> ExpandPaths(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                files.Add(path);
                continue;
            }
            files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).StartsWith('.'))
                .Order(StringComparer.Ordinal));
        }
        return files;
    }
}
