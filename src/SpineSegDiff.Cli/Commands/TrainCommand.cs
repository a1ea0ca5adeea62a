using System.CommandLine;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Networks;
using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg train preseg|diffusion --out DIR</c>: trains a network on synthetic slices rendered from the SPIDER
/// label maps, with validation Dice on held-out patients, resumable checkpoints and a model card at the end.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("network") { Description = "preseg (the presegmentation U-Net) or diffusion (SpineSegDiff)." };
        target.AcceptOnlyFromAmong("preseg", "diffusion");
        var output = new Option<string>("--out") { Description = "Folder for checkpoints, the final model and its card.", Required = true };
        var steps = new Option<int>("--steps") { Description = "Total optimiser steps.", DefaultValueFactory = _ => 2000 };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint." };
        var batch = new Option<int>("--batch") { Description = "Slices per step.", DefaultValueFactory = _ => 4 };
        var learningRate = new Option<double?>("--lr") { Description = "Peak AdamW learning rate (default: 1e-3 preseg, 1e-4 diffusion)." };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps before the cosine decay.", DefaultValueFactory = _ => 100 };
        var crop = new Option<int>("--crop") { Description = "Side of the square training patch around the anatomy (320 = whole slices).", DefaultValueFactory = _ => 192 };
        var widths = new Option<string?>("--widths") { Description = "Channel widths per level of a new network, e.g. 16,32,64,128,256 (default: the shipped configuration)." };
        var initFrom = new Option<string?>("--init-from") { Description = "Fine-tune: start from this model's weights with a fresh optimizer." };
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop with a checkpoint after this step (continue later with --resume)." };
        var preview = new Option<int>("--preview") { Description = "Only write this many training samples as PNGs (image | labels) to OUT/preview and exit." };
        var seed = new Option<int>("--seed") { Description = "Seed of initialisation, data and noise.", DefaultValueFactory = _ => 1 };
        var validateEvery = new Option<int>("--validate-every") { Description = "Validation Dice every N steps.", DefaultValueFactory = _ => 250 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Checkpoint every N steps.", DefaultValueFactory = _ => 100 };
        var preseg = new Option<string?>("--preseg") { Description = "Diffusion only: the presegmentation model (default: models/presegmentation.model)." };
        var maxTimestep = new Option<int>("--t-pre") { Description = "Diffusion only: timesteps are drawn from [0, T_pre).", DefaultValueFactory = _ => 30 };
        var corrupt = new Option<double>("--perturb-preseg") { Description = "Diffusion only: share of training inputs whose presegmentation is perturbed (boundaries moved, regions erased or swapped).", DefaultValueFactory = _ => 0.5 };
        var fromPreseg = new Option<bool>("--from-preseg") { Description = "Diffusion only: start a new network from the presegmentation model's weights (mask branch at zero)." };
        var fold = new Option<int?>("--fold") { Description = "Preseg only: leave out this fold (0-based) of the training patients, for out-of-fold presegmentations." };
        var folds = new Option<int>("--folds") { Description = "Preseg only: number of folds the training patients are dealt into (with --fold).", DefaultValueFactory = _ => 2 };
        var foldModels = new Option<string[]>("--fold-models") { Description = "Diffusion only: out-of-fold presegmentation models in fold order (model k trained with --fold k); training slices are presegmented by the model that did not see their patient.", AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)." };
        var data = new Option<string?>("--data") { Description = $"SPIDER data folder (default: data/spider, or ${SpiderCatalog.EnvironmentVariable})." };
        var command = new Command("train", "Train the presegmentation or the SpineSegDiff network on synthetic images from real SPIDER anatomy.")
        {
            target, output, steps, resume, batch, learningRate, warmup, crop, widths, initFrom, stopAfter, preview, seed, validateEvery, checkpointEvery, preseg, maxTimestep, corrupt, fromPreseg, fold, folds, foldModels, threads, data,
        };
        command.SetAction(async (parse, ct) =>
        {
            var givenFoldModels = parse.GetValue(foldModels) is { Length: > 0 } models ? models : null;
            var trainingTarget = parse.GetValue(target) == "preseg" ? TrainingTarget.Presegmentation : TrainingTarget.Diffusion;
            var options = new TrainingOptions
            {
                Target = trainingTarget,
                OutputDirectory = parse.GetValue(output)!,
                Steps = parse.GetValue(steps),
                Resume = parse.GetValue(resume),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(learningRate),
                WarmupSteps = parse.GetValue(warmup),
                CropSize = parse.GetValue(crop),
                StopAfterStep = parse.GetValue(stopAfter),
                InitialModel = parse.GetValue(initFrom),
                Seed = parse.GetValue(seed),
                ValidateEvery = parse.GetValue(validateEvery),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                PresegmentationModel = parse.GetValue(preseg),
                MaxTimestep = parse.GetValue(maxTimestep),
                CorruptedPresegmentationFraction = parse.GetValue(corrupt),
                WarmStartFromPresegmentation = parse.GetValue(fromPreseg),
                HeldOutFold = parse.GetValue(fold),
                // One model per fold: the models given decide the fold count.
                FoldCount = givenFoldModels?.Length ?? parse.GetValue(folds),
                OutOfFoldPresegmentationModels = givenFoldModels,
            };
            if (!NetworkWidths.TryParse(parse.GetValue(widths), out var parsedWidths))
            {
                return await ConsoleReport.ConfigurationErrorsAsync(["--widths takes comma-separated positive integers, e.g. 16,32,64,128,256."]).ConfigureAwait(false);
            }
            options = options with { Widths = parsedWidths };
            return await RunAsync(options, parse.GetValue(threads), parse.GetValue(data), parse.GetValue(preview), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(TrainingOptions options, int? threads, string? dataDirectory, int preview, CancellationToken cancellationToken)
    {
        SpiderCatalog catalog;
        try
        {
            catalog = SpiderCatalog.Open(dataDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or InvalidOperationException)
        {
            return await ConsoleReport.ConfigurationErrorsAsync([$"SPIDER data: {ex.Message}"]).ConfigureAwait(false);
        }
        if (preview > 0)
        {
            WritePreview(new TrainingSliceGenerator(catalog), Path.Combine(options.OutputDirectory, "preview"), preview, options.Seed, options.InitialModel);
            return ExitCodes.Success;
        }
        if (options.Target == TrainingTarget.Diffusion && options.PresegmentationModel is null)
        {
            // The repository's shipped model: data/spider and models/ are siblings under the repository root.
            options = options with { PresegmentationModel = Path.GetFullPath(Path.Combine(catalog.Root, "..", "..", "models", "presegmentation.model")) };
        }
        var errors = options.Validate().ToList();
        if (threads is < 1)
        {
            errors.Add($"--threads must be at least 1 (got {threads}).");
        }
        if (errors.Count > 0)
        {
            return await ConsoleReport.ConfigurationErrorsAsync(errors).ConfigureAwait(false);
        }
        var runtime = new TorchRuntime(new TorchRuntimeOptions { Threads = threads });
        var run = new TrainingRun(options, new TrainingSliceGenerator(catalog), runtime, Console.Out, interactive: !Console.IsOutputRedirected);
        try
        {
            var result = await run.RunAsync(cancellationToken).ConfigureAwait(false);
            return result.Finished ? ExitCodes.Success : ExitCodes.OperationFailed;
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync("Training failed: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.OperationFailed;
        }
    }

    /// <summary>
    /// Side-by-side PNGs: the image, then its labels over it (canal blue, vertebrae green, discs red). With a
    /// presegmentation model (--init-from) the slices come from the validation patients and a third panel shows the
    /// model's prediction, with its Dice per class: a quick look at what a model gets wrong on unseen anatomy.
    /// </summary>
    private static void WritePreview(TrainingSliceGenerator generator, string folder, int count, int seed, string? model)
    {
        Directory.CreateDirectory(folder);
        const int size = TrainingSliceGenerator.Size;
        // The runtime sets libtorch's threads and allocator before the model exists.
        var runtime = model is null ? null : new TorchRuntime();
        using var network = runtime is null ? null : PresegmentationNetwork.Load(model!);
        var cases = (network is null ? generator.Catalog.TrainingCases : generator.Catalog.ValidationCases).ToArray();
        var panels = network is null ? 2 : 3;
        var rgb = new byte[panels * size * size * 3];
        var predicted = new byte[size * size];
        for (var n = 0; n < count; n++)
        {
            var sample = generator.Generate(cases[n % cases.Length], seed + n);
            var line = $"{sample.Parameters.CaseId} {sample.Parameters.Contrast}, {sample.Parameters.ResolutionMm:F2} mm, rotation {sample.Parameters.RotationDegrees:F1} deg";
            DrawPanel(rgb, panels, 0, sample.Image, null);
            DrawPanel(rgb, panels, 1, sample.Image, sample.Labels);
            if (network is not null)
            {
                LabelDecoding.ToLabels(network.PredictProbabilities(sample.Image, 1, size, size), predicted);
                DrawPanel(rgb, panels, 2, sample.Image, predicted);
                var dice = DiceScore.Compute(predicted, sample.Labels);
                line += string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; Dice canal {dice[0]:F3} vertebra {dice[1]:F3} disc {dice[2]:F3}");
            }
            var path = Path.Combine(folder, $"sample-{n:D2}.png");
            SpineSegDiff.Imaging.Rendering.PngWriter.Write(path, rgb, panels * size, size, channels: 3);
            Console.WriteLine($"{path}: {line}");
        }
    }

    private static void DrawPanel(byte[] rgb, int panels, int panel, float[] image, byte[]? labels)
    {
        const int size = TrainingSliceGenerator.Size;
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var grey = (byte)Math.Clamp(MathF.Round(image[(y * size) + x] * 255f), 0f, 255f);
                var at = (((y * panels * size) + (panel * size) + x) * 3);
                var label = labels?[(y * size) + x] ?? 0;
                var dim = (byte)(grey / 2);
                rgb[at] = label == 0 ? grey : label == 3 ? (byte)255 : dim;
                rgb[at + 1] = label == 0 ? grey : label == 2 ? (byte)255 : dim;
                rgb[at + 2] = label == 0 ? grey : label == 1 ? (byte)255 : dim;
            }
        }
    }
}
