using System.CommandLine;
using System.Globalization;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Segmentation.Evaluation;
using SpineSegDiff.Segmentation.Inference;
using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg evaluate --out DIR</c>: the paper's comparisons on synthetic renderings of the validation patients'
/// real anatomy, written as DIR/evaluation.md with figures (docs/evaluation.md is this command's output).
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for evaluation.md and figures/ (docs to regenerate docs/evaluation.md).", Required = true };
        var patients = new Option<string[]>("--patients") { Description = "validation (default) or SPIDER patient numbers / case ids.", AllowMultipleArgumentsPerToken = true };
        var profile = new Option<string>("--profile") { Description = "Inference profile: paper or fast.", DefaultValueFactory = _ => "paper" };
        var seeds = new Option<int>("--seeds") { Description = "Renderings per case and contrast.", DefaultValueFactory = _ => 1 };
        var starts = new Option<string>("--t-start-ablation") { Description = "Comma-separated t_start values for the Table 2 ablation (empty: none).", DefaultValueFactory = _ => "0,10,30,100" };
        var seed = new Option<int>("--seed") { Description = "Seed of the diffusion sampling.", DefaultValueFactory = _ => 1 };
        var samples = new Option<int?>("--samples") { Description = "Override the profile's samples S (to measure a candidate profile)." };
        var steps = new Option<int?>("--steps") { Description = "Override the profile's DDIM steps K (the fused steps follow: min(Ts, K))." };
        var eta = new Option<double?>("--eta") { Description = "Override the profile's DDIM eta." };
        var models = new Option<string?>("--models") { Description = $"Model folder (default: models/, or ${SegmentationModels.EnvironmentVariable})." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)." };
        var data = new Option<string?>("--data") { Description = $"SPIDER data folder (default: data/spider, or ${SpiderCatalog.EnvironmentVariable})." };
        var command = new Command("evaluate", "Compare presegmentation and SpineSegDiff refinement on the validation patients and write a Markdown report.")
        {
            output, patients, profile, seeds, starts, seed, samples, steps, eta, models, threads, data,
        };
        command.SetAction((parse, ct) =>
        {
            var chosen = InferenceProfile.FromName(parse.GetValue(profile)!);
            if (chosen is not null)
            {
                var k = parse.GetValue(steps) ?? chosen.Steps;
                chosen = chosen with
                {
                    Name = parse.GetValue(samples) is null && parse.GetValue(steps) is null && parse.GetValue(eta) is null ? chosen.Name : chosen.Name + " (modified)",
                    Samples = parse.GetValue(samples) ?? chosen.Samples,
                    Steps = k,
                    FusedSteps = Math.Min(chosen.FusedSteps, k),
                    Eta = parse.GetValue(eta) ?? chosen.Eta,
                };
            }
            return RunAsync(parse, chosen, output, patients, seeds, starts, seed, models, threads, data, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        ParseResult parse, InferenceProfile? profile, Option<string> output, Option<string[]> patients, Option<int> seeds, Option<string> starts,
        Option<int> seed, Option<string?> models, Option<int?> threads, Option<string?> data, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        if (profile is null)
        {
            errors.Add($"--profile must be one of {string.Join(", ", InferenceProfile.Named.Select(p => p.Name))}.");
        }
        var ablation = new List<int>();
        foreach (var part in parse.GetValue(starts)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            {
                ablation.Add(t);
            }
            else
            {
                errors.Add($"--t-start-ablation takes comma-separated timesteps, not '{part}'.");
            }
        }
        if (parse.GetValue(threads) is < 1)
        {
            errors.Add("--threads must be at least 1.");
        }

        SpiderCatalog? catalog = null;
        IReadOnlyList<SpiderCase> cases = [];
        string? modelDirectory = null;
        try
        {
            catalog = SpiderCatalog.Open(parse.GetValue(data));
            cases = SelectCases(catalog, parse.GetValue(patients) ?? []);
            modelDirectory = parse.GetValue(models) ?? SegmentationModels.FindDirectory();
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or FileNotFoundException or KeyNotFoundException or ArgumentException)
        {
            errors.Add(ex.Message);
        }
        if (errors.Count > 0 || profile is null || catalog is null || modelDirectory is null)
        {
            return await ConsoleReport.ConfigurationErrorsAsync(errors).ConfigureAwait(false);
        }
        var options = new EvaluationOptions
        {
            Cases = cases,
            Profile = profile,
            SeedsPerContrast = parse.GetValue(seeds),
            AblationStarts = ablation,
            Seed = parse.GetValue(seed),
        };
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            return await ConsoleReport.ConfigurationErrorsAsync(problems).ConfigureAwait(false);
        }

        var runtime = new TorchRuntime(new TorchRuntimeOptions { Threads = parse.GetValue(threads) });
        using var loaded = SegmentationModels.Load(modelDirectory);
        var images = cases.Count * options.Contrasts.Count * options.SeedsPerContrast;
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Evaluating {string.Join(", ", loaded.Versions.Select(v => $"{v.Key} {v.Value}"))} with profile {profile} on {images} images " +
            $"of {cases.Count} cases; t_start ablation {(ablation.Count == 0 ? "off" : string.Join("/", ablation))}; {runtime.Threads} threads")).ConfigureAwait(false);
        var evaluation = new ModelEvaluation(loaded, new TrainingSliceGenerator(catalog));
        var result = evaluation.Run(options, new Progress<string>(line => Console.WriteLine(line)), cancellationToken);
        var commandLine = "./spineseg evaluate " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2));
        var path = EvaluationReport.Write(result, parse.GetValue(output)!, commandLine.TrimEnd());
        foreach (var (check, passed) in EvaluationReport.Checks(result))
        {
            await Console.Out.WriteLineAsync($"{(passed ? "PASS" : "FAIL")}: {check}").ConfigureAwait(false);
        }
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Report: {path} ({result.Elapsed.TotalMinutes:F1} min)")).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    /// <summary>"validation" (or nothing) = every validation case; otherwise patient numbers ("166") or case ids ("166_t2").</summary>
    private static List<SpiderCase> SelectCases(SpiderCatalog catalog, string[] selection)
    {
        if (selection.Length == 0 || (selection.Length == 1 && selection[0].Equals("validation", StringComparison.OrdinalIgnoreCase)))
        {
            return [.. catalog.ValidationCases];
        }
        var cases = new List<SpiderCase>();
        foreach (var item in selection)
        {
            var matching = int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var patient)
                ? catalog.Cases.Where(c => c.Patient == patient).ToList()
                : [catalog.Case(item)];
            if (matching.Count == 0)
            {
                throw new KeyNotFoundException($"No SPIDER case for patient {item}.");
            }
            cases.AddRange(matching);
        }
        return [.. cases.Distinct()];
    }
}
