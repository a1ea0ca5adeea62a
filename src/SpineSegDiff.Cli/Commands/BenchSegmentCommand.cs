using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Segmentation.Inference;
using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg bench-segment</c>: seconds per study (one synthetic lumbar series, central slice) for each inference
/// profile, split by stage, with the ratio of total time to time inside the networks and the peak RSS after each
/// profile. See docs/benchmarks.md.
/// </summary>
internal static class BenchSegmentCommand
{
    public static Command Create()
    {
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per profile after one warm-up; medians are reported.", DefaultValueFactory = _ => 3 };
        var profiles = new Option<string>("--profiles") { Description = "Comma-separated: presegmentation, fast, paper.", DefaultValueFactory = _ => "presegmentation,fast,paper" };
        var models = new Option<string?>("--models") { Description = $"Model folder (default: models/, or ${SegmentationModels.EnvironmentVariable})." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)." };
        var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
        var data = new Option<string?>("--data") { Description = $"SPIDER data folder for the synthetic study (default: data/spider, or ${SpiderCatalog.EnvironmentVariable})." };
        var command = new Command("bench-segment", "Benchmark the whole segmentation of one study per inference profile, by stage.")
        {
            repeats, profiles, models, threads, device, data,
        };
        command.SetAction((parse, ct) => Run(
            parse.GetValue(repeats), parse.GetValue(profiles)!, parse.GetValue(models), parse.GetValue(threads), parse.GetValue(device), parse.GetValue(data), ct));
        return command;
    }

    private static async Task<int> Run(
        int repeats, string profileList, string? modelFolder, int? threads, ComputeDevice device, string? dataDirectory, CancellationToken cancellationToken)
    {
        var profiles = new List<InferenceProfile>();
        foreach (var name in profileList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var profile = name.Equals("presegmentation", StringComparison.OrdinalIgnoreCase) ? InferenceProfile.PresegmentationOnly : InferenceProfile.FromName(name);
            if (profile is null)
            {
                return await ConsoleReport.ConfigurationErrorsAsync([$"Unknown profile '{name}' (presegmentation, fast, paper)."]).ConfigureAwait(false);
            }
            profiles.Add(profile);
        }
        if (repeats < 1 || threads is < 1)
        {
            return await ConsoleReport.ConfigurationErrorsAsync(["--repeats and --threads must be at least 1."]).ConfigureAwait(false);
        }

        var runtime = new TorchRuntime(new TorchRuntimeOptions { Threads = threads });
        var work = Directory.CreateTempSubdirectory("spineseg-bench-segment-");
        try
        {
            var catalog = SpiderCatalog.Open(dataDirectory);
            var spiderCase = SyntheticStudyWriter.DefaultCase(catalog);
            var study = SyntheticStudyWriter.Write(catalog, spiderCase, SyntheticStudyWriter.DefaultContrast(spiderCase), 1, work.FullName);
            var instances = study.Files.Select(f => DicomFile.Open(f).Dataset).ToList();
            using var models = SegmentationModels.Load(modelFolder ?? SegmentationModels.FindDirectory(), device);
            var pipeline = new SeriesSegmentationPipeline(models);
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(c,
                $"libtorch {runtime.TorchVersion}, device {models.Presegmentation.Device}, {runtime.Threads} threads, {Environment.ProcessorCount} cores; " +
                $"study: {instances.Count} synthetic MR images {study.Rows}x{study.Columns} ({spiderCase.Id}); median of {repeats} after a warm-up"));
            Console.WriteLine();
            Console.WriteLine("| profile | total s | preprocessing | presegmentation | image encoder | denoiser | sampling | fusion | post-processing | total / network | peak RSS MB |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var profile in profiles)
            {
                pipeline.Run(instances, profile, seed: 1, cancellationToken: cancellationToken);
                var runs = new List<(double Total, StageTimings Timings)>();
                for (var r = 0; r < repeats; r++)
                {
                    var clock = Stopwatch.StartNew();
                    var result = pipeline.Run(instances, profile, seed: 1, cancellationToken: cancellationToken);
                    runs.Add((clock.Elapsed.TotalSeconds, result.Timings));
                }
                runs.Sort((a, b) => a.Total.CompareTo(b.Total));
                var (total, timings) = runs[runs.Count / 2];
                double S(Stage stage) => timings[stage].TotalSeconds;
                Console.WriteLine(string.Create(c,
                    $"| {profile} | {total:F2} | {S(Stage.Preprocessing):F3} | {S(Stage.Presegmentation):F3} | {S(Stage.ImageEncoder):F3} | " +
                    $"{S(Stage.Denoiser):F2} ({timings.DenoiserSteps} steps) | {S(Stage.Sampling):F3} | {S(Stage.Fusion):F3} | {S(Stage.Postprocessing):F3} | " +
                    $"{total / timings.Network.TotalSeconds:F3} | {ProcessMemory.PeakResidentMegabytes():F0} |"));
            }
            Console.WriteLine();
            Console.WriteLine("total / network: wall time of the whole study over time inside the three networks (1.000 = no overhead).");
            return ExitCodes.Success;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
