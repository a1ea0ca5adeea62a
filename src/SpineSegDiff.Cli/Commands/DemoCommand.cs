using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg demo</c>: the whole node on its embedded defaults in this process (in-memory bus, local store, CPU):
/// writes a synthetic lumbar study, sends it by C-STORE like a PACS would, waits for the results to be exported to a
/// local folder destination, and prints where the SEG, Secondary Captures and previews are, with the timings.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for the study, the node's store and the exported results (created).", DefaultValueFactory = _ => "demo-output" };
        var profile = new Option<string>("--profile") { Description = "Inference profile: paper (S=15, K=10; ~30 s per study on 2 CPU cores), fast or presegmentation.", DefaultValueFactory = _ => "paper" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the exported results.", DefaultValueFactory = _ => 600 };
        var command = new Command("demo", "Start the node, send it a synthetic lumbar study, and show the segmentation it sends back.") { output, profile, timeout };
        command.SetAction((parse, ct) => RunAsync(Path.GetFullPath(parse.GetValue(output)!), parse.GetValue(profile)!, parse.GetValue(timeout), ct));
        return command;
    }

    private static async Task<int> RunAsync(string output, string profile, int timeoutSeconds, CancellationToken cancellationToken)
    {
        if (timeoutSeconds < 1)
        {
            return await ConsoleReport.ConfigurationErrorsAsync([$"--timeout must be at least 1 second (got {timeoutSeconds})."]).ConfigureAwait(false);
        }
        var c = CultureInfo.InvariantCulture;
        var exported = Path.Combine(output, "exported");
        var port = LoopbackPort.Free();
        var overrides = new Dictionary<string, string?>
        {
            ["Dicom:BindAddress"] = IPAddress.Loopback.ToString(),
            ["Dicom:Port"] = port.ToString(c),
            ["Dicom:AllowedCallingAeTitles:0"] = DemoCallingAeTitle,
            ["Storage:RootDirectory"] = Path.Combine(output, "store"),
            ["Gateway:Assembly:CompleteOnAssociationRelease"] = "true",
            ["Gateway:Routing:Rules:0:Profile"] = profile,
            ["Gateway:Routing:Rules:0:Destinations:0"] = "local-folder",
            ["Export:Destinations:0:Name"] = "local-folder",
            ["Export:Destinations:0:Kind"] = "Folder",
            ["Export:Destinations:0:Path"] = exported,
            ["Bus:Transport"] = BusOptions.InMemoryTransport,
            ["Logging:LogLevel:Default"] = "Warning",
            // The demo runs once and exits: no status page, and no clash with a node serving on the default port.
            ["Status:Port"] = "0",
        };
        var builder = NodeHost.CreateBuilder(null, overrides, NodeRole.All, LogLevel.Warning);
        using var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException ex)
        {
            return await ConsoleReport.ConfigurationErrorsAsync(ex.Failures).ConfigureAwait(false);
        }
        var total = Stopwatch.StartNew();
        await Console.Out.WriteLineAsync($"Node SEGNODE running in this process on 127.0.0.1:{port} (in-memory bus, store {Path.Combine(output, "store")})").ConfigureAwait(false);

        var catalog = SpiderCatalog.Open();
        var spiderCase = SyntheticStudyWriter.DefaultCase(catalog);
        var study = SyntheticStudyWriter.Write(catalog, spiderCase, SyntheticStudyWriter.DefaultContrast(spiderCase), 1, Path.Combine(output, "study"));
        await Console.Out.WriteLineAsync(string.Create(c, $"Synthetic {study.Contrast} lumbar study (SPIDER case {study.CaseId}): {study.Files.Count} MR images in {study.SeriesDirectory}")).ConfigureAwait(false);

        var sendClock = Stopwatch.StartNew();
        var scu = new StorageScu(new DicomClientOptions { CallingAeTitle = DemoCallingAeTitle, CalledAeTitle = "SEGNODE", Host = IPAddress.Loopback.ToString(), Port = port });
        var sent = await scu.SendAsync(study.Files, cancellationToken).ConfigureAwait(false);
        var failed = sent.Where(r => !r.Succeeded).ToList();
        if (failed.Count > 0)
        {
            await Console.Error.WriteLineAsync($"C-STORE failed for {failed.Count} of {sent.Count} images: {failed[0].Error}").ConfigureAwait(false);
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.OperationFailed;
        }
        await Console.Out.WriteLineAsync(string.Create(c, $"Sent by C-STORE in {sendClock.Elapsed.TotalSeconds:F1} s; waiting for the results (profile {profile})...")).ConfigureAwait(false);

        var deadline = TimeSpan.FromSeconds(timeoutSeconds);
        var waited = Stopwatch.StartNew();
        string? delivered = null;
        while (waited.Elapsed < deadline && !cancellationToken.IsCancellationRequested)
        {
            delivered = Directory.Exists(exported) ? Directory.EnumerateDirectories(exported).FirstOrDefault(d => Directory.EnumerateFiles(d, "*.dcm").Count() >= 2) : null;
            if (delivered is not null)
            {
                break;
            }
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }
        var elapsed = waited.Elapsed;
        await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (delivered is null)
        {
            await Console.Error.WriteLineAsync(string.Create(c, $"No results exported within {timeoutSeconds} s; the node's log above says why.")).ConfigureAwait(false);
            return ExitCodes.OperationFailed;
        }

        await Console.Out.WriteLineAsync(string.Create(c, $"Results exported {elapsed.TotalSeconds:F1} s after the last image was sent ({total.Elapsed.TotalSeconds:F1} s in all):")).ConfigureAwait(false);
        foreach (var file in Directory.EnumerateFiles(delivered).Order(StringComparer.Ordinal))
        {
            await Console.Out.WriteLineAsync("  " + file + "  " + Describe(file)).ConfigureAwait(false);
        }
        var resultDirectory = Directory.EnumerateDirectories(Path.Combine(output, "store", "results")).First();
        foreach (var preview in Directory.EnumerateFiles(resultDirectory, "*.png").Order(StringComparer.Ordinal))
        {
            await Console.Out.WriteLineAsync("  preview " + preview).ConfigureAwait(false);
        }
        await PrintTimingsAsync(Path.Combine(resultDirectory, "summary.json")).ConfigureAwait(false);
        await Console.Out.WriteLineAsync("Synthetic images, research software: not for clinical use.").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private const string DemoCallingAeTitle = "DEMO-PACS";

    private static string Describe(string file)
    {
        var dataset = SpineSegDiff.Dicom.IO.DicomFile.Open(file, SpineSegDiff.Dicom.IO.DicomReadOptions.HeaderOnly).Dataset;
        var modality = dataset.GetString(SpineSegDiff.Dicom.DicomTags.Modality);
        var description = dataset.GetString(SpineSegDiff.Dicom.DicomTags.SeriesDescription);
        return $"({modality}: {description})";
    }

    private static async Task PrintTimingsAsync(string summaryPath)
    {
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(summaryPath).ConfigureAwait(false));
        if (summary.RootElement.TryGetProperty("timingsSeconds", out var timings))
        {
            var stages = timings.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number && p.Name != "denoiserSteps")
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} {p.Value.GetDouble():F2} s"));
            await Console.Out.WriteLineAsync("Timings: " + string.Join(", ", stages)).ConfigureAwait(false);
        }
    }
}
