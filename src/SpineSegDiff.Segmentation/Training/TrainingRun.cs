using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>What a finished (or interrupted) run leaves behind.</summary>
public sealed record TrainingResult(int CompletedSteps, bool Finished, string CheckpointPath, string? ModelPath, IReadOnlyDictionary<string, double>? ValidationDice, double TrainingSeconds);

/// <summary>
/// The training loop shared by both networks: batches rendered ahead on another thread, warm-up + cosine learning
/// rate, progress with loss and ETA, validation Dice on held-out patients, checkpoints with optimizer state and a
/// state file for exact resumption, and at the end the model file with its card. Interrupting (Ctrl+C) saves a
/// checkpoint first, so no completed step is lost.
/// </summary>
public sealed class TrainingRun
{
    private readonly TrainingOptions _options;
    private readonly TrainingSliceGenerator _generator;
    private readonly TorchRuntime _runtime;
    private readonly TextWriter _output;
    private readonly bool _interactive;

    public TrainingRun(TrainingOptions options, TrainingSliceGenerator generator, TorchRuntime runtime, TextWriter output, bool interactive)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }
        _options = options;
        _generator = generator ?? throw new ArgumentNullException(nameof(generator));
        _runtime = runtime ?? throw new ArgumentNullException(nameof(runtime));
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _interactive = interactive;
    }

    public static string NameOf(TrainingTarget target) => target == TrainingTarget.Presegmentation ? "presegmentation" : "spinesegdiff";

    public static string CheckpointPath(string directory, TrainingTarget target) => Path.Combine(directory, NameOf(target) + ".checkpoint");

    public static string StatePath(string directory, TrainingTarget target) => Path.Combine(directory, NameOf(target) + ".state.json");

    public static string ModelPath(string directory, TrainingTarget target) => Path.Combine(directory, NameOf(target) + ".model");

    public async Task<TrainingResult> RunAsync(CancellationToken cancellationToken)
    {
        var o = _options;
        var directory = Path.GetFullPath(o.OutputDirectory);
        Directory.CreateDirectory(directory);
        var checkpoint = CheckpointPath(directory, o.Target);
        var statePath = StatePath(directory, o.Target);

        var (firstStep, seed, batchSize, previousSeconds) = (0, o.Seed, o.BatchSize, 0.0);
        if (o.Resume)
        {
            if (!File.Exists(checkpoint) || !File.Exists(statePath))
            {
                throw new InvalidOperationException($"Nothing to resume in {directory}: {Path.GetFileName(checkpoint)} and {Path.GetFileName(statePath)} are needed.");
            }
            var state = TrainingState.Load(statePath);
            (firstStep, seed, batchSize, previousSeconds) = (state.CompletedSteps, state.Seed, state.BatchSize, state.TrainingSeconds);
            if (state.Target != o.Target)
            {
                throw new InvalidOperationException($"{statePath} belongs to a {state.Target} run, not {o.Target}.");
            }
        }
        else if (File.Exists(checkpoint))
        {
            throw new InvalidOperationException($"{directory} already holds a {NameOf(o.Target)} run; pass --resume to continue it or choose another --out.");
        }

        _runtime.ManualSeed((ulong)seed);
        using var objective = CreateObjective(o, checkpoint, resume: o.Resume, _generator.Catalog.Split.TrainingPatients);
        // Folds exist only for a held-out-fold run; an ordinary run must not depend on the training set dividing.
        var folds = o.HeldOutFold is null ? null : new TrainingFolds(_generator.Catalog.Split.TrainingPatients, o.FoldCount);
        var trainingCases = _generator.Catalog.TrainingCases
            .Where(c => folds is null || folds.FoldOf(c.Patient) != o.HeldOutFold).ToArray();
        if (trainingCases.Length == 0)
        {
            throw new InvalidOperationException("The dataset split has no training cases.");
        }
        var trainingPatients = trainingCases.Select(c => c.Patient).Distinct().Count();
        _output.WriteLine($"Training {objective.Architecture}: {objective.Network.ParameterCount:N0} parameters, {_runtime.Threads} threads, " +
                          $"batch {batchSize} of {o.CropSize}x{o.CropSize} patches, steps {firstStep}..{o.Steps}, peak lr {o.PeakLearningRate:G3}, seed {seed}.");
        _output.WriteLine($"Data: {trainingCases.Length} training cases ({trainingPatients} patients" +
                          (o.HeldOutFold is { } fold ? $", fold {fold} of {o.FoldCount} held out" : "") +
                          $"), validation on {_generator.Catalog.Split.ValidationPatients.Count} other patients" +
                          (o.OutOfFoldPresegmentationModels is { Count: var models } ? $"; training inputs presegmented out of fold by {models} models." : "."));
        _generator.Preload(_generator.Catalog.Cases);
        var validation = new ValidationSet(_generator, o.ValidationSamplesPerContrast);

        var schedule = new LearningRateSchedule(o.PeakLearningRate, o.WarmupSteps, o.Steps);
        var progress = new TrainingProgress(_output, _interactive, firstStep, o.Steps);
        var clock = Stopwatch.StartNew();
        IReadOnlyDictionary<string, double>? lastDice = null;
        double? lastLoss = null;
        var step = firstStep;
        var dataWait = TimeSpan.Zero;

        // The producer renders on one thread, so one pair of full-slice buffers serves every crop.
        var fullImage = new float[ValidationSet.Size * ValidationSet.Size];
        var fullLabels = new byte[fullImage.Length];
        int Render(long sampleSeed, Span<float> image, Span<byte> labels)
        {
            var spiderCase = trainingCases[(int)(sampleSeed % trainingCases.Length)];
            if (o.CropSize == ValidationSet.Size)
            {
                _generator.Generate(spiderCase, (int)(sampleSeed >> 31), image, labels);
                return spiderCase.Patient;
            }
            _generator.Generate(spiderCase, (int)(sampleSeed >> 31), fullImage, fullLabels);
            TrainingCrop.Extract(fullImage, fullLabels, ValidationSet.Size, o.CropSize, new Random((int)(sampleSeed & 0x7FFFFFFF)), image, labels);
            return spiderCase.Patient;
        }

        void SaveCheckpoint()
        {
            objective.Network.Save(checkpoint, includeOptimizerState: true);
            new TrainingState
            {
                Target = o.Target,
                CompletedSteps = step,
                TotalSteps = o.Steps,
                Seed = seed,
                BatchSize = batchSize,
                PeakLearningRate = o.PeakLearningRate,
                TrainingSeconds = previousSeconds + clock.Elapsed.TotalSeconds,
                LastLoss = lastLoss,
                LastValidationDice = lastDice,
            }.Save(statePath);
        }

        await using (var producer = new TrainingBatchProducer(Render, seed, firstStep, o.Steps, batchSize, o.CropSize, o.CropSize))
        {
            try
            {
                var stopAt = Math.Min(o.Steps, o.StopAfterStep ?? o.Steps);
                while (step < stopAt)
                {
                    var waitStarted = Stopwatch.GetTimestamp();
                    var batch = await producer.NextAsync(cancellationToken).ConfigureAwait(false);
                    dataWait += Stopwatch.GetElapsedTime(waitStarted);
                    objective.Network.LearningRate = schedule.RateAt(step);
                    var loss = objective.Step(batch, TrainingBatchProducer.SampleSeed(seed, step, -1));
                    producer.Return(batch);
                    if (!double.IsFinite(loss.Total))
                    {
                        throw new InvalidOperationException($"The loss diverged at step {step + 1} ({loss.Total}); the last checkpoint is kept. Lower the learning rate.");
                    }
                    lastLoss = loss.Total;
                    step++;
                    progress.Step(step, loss.Total);
                    if (step % o.ValidateEvery == 0 || step == o.Steps)
                    {
                        var (dice, detail) = objective.Validate(validation);
                        lastDice = ValidationSet.Named(dice);
                        progress.Message(string.Create(CultureInfo.InvariantCulture,
                            $"step {step}: validation Dice canal {dice[0]:F3}  vertebra {dice[1]:F3}  disc {dice[2]:F3}  (mean {dice.Average():F3}; {validation.Samples.Count} slices){detail}; " +
                            $"waiting for data {100 * dataWait.TotalSeconds / clock.Elapsed.TotalSeconds:F0}% of the time"));
                    }
                    if (step % o.CheckpointEvery == 0 || step == stopAt)
                    {
                        SaveCheckpoint();
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                SaveCheckpoint();
                progress.Message($"Interrupted after step {step}; checkpoint saved. Continue with --resume.");
                return new TrainingResult(step, false, checkpoint, null, lastDice, previousSeconds + clock.Elapsed.TotalSeconds);
            }
        }

        var seconds = previousSeconds + clock.Elapsed.TotalSeconds;
        if (step < o.Steps)
        {
            _output.WriteLine($"Stopped after step {step} of {o.Steps} as asked; continue with --resume.");
            return new TrainingResult(step, false, checkpoint, null, lastDice, seconds);
        }
        var modelPath = ModelPath(directory, o.Target);
        objective.Network.Save(modelPath, includeOptimizerState: false);
        new ModelCard
        {
            Name = objective.Name,
            Architecture = objective.Architecture,
            Version = $"{DateTimeOffset.UtcNow:yyyyMMdd}-s{o.Steps}-seed{seed}",
            Configuration = DescribeProvenance(objective.Configuration, o, folds),
            ParameterCount = objective.Network.ParameterCount,
            TrainingData = new TrainingDataDescription
            {
                Description = "Synthetic sagittal lumbar MR slices rendered from real SPIDER label maps (data/spider): T1-like, T2-like and random " +
                              "tissue contrast, 0.3-1.2 mm in-plane resolution, random field of view, rotation, elastic deformation, bias field, " +
                              "blur and Rician noise; preprocessed as at inference (98th percentile normalisation, 1 mm, 320x320).",
                Split = _generator.Catalog.SplitRecord(),
            },
            Seed = seed,
            Steps = o.Steps,
            BatchSize = batchSize,
            Optimizer = string.Create(CultureInfo.InvariantCulture, $"AdamW, peak lr {o.PeakLearningRate:G3}, weight decay {o.WeightDecay:G3}, {o.WarmupSteps} warm-up steps then cosine decay"),
            TrainingPatchSize = o.CropSize,
            Validation = string.Create(CultureInfo.InvariantCulture,
                $"pooled Dice per class over {validation.Samples.Count} whole synthetic slices of the validation patients (T1-like and T2-like, fixed seeds){objective.ValidationNote}"),
            TrainingSeconds = Math.Round(seconds, 1),
            ValidationDice = lastDice,
            Date = DateTimeOffset.UtcNow,
        }.Save(modelPath);
        _output.WriteLine($"Model written to {modelPath} (card: {ModelCard.PathFor(modelPath)}), {seconds / 60:F1} min of training.");
        return new TrainingResult(step, true, checkpoint, modelPath, lastDice, seconds);
    }

    /// <summary>
    /// Records the model a fine-tuning run started from (its steps are not in this card's), and which fold a
    /// presegmentation network left out with the patients it held out, so that a diffusion run can check it
    /// presegments each patient with a network that has not seen it.
    /// </summary>
    private static JsonObject DescribeProvenance(JsonObject configuration, TrainingOptions o, TrainingFolds? folds)
    {
        if (o.InitialModel is { } initial)
        {
            configuration["fineTunedFrom"] = File.Exists(ModelCard.PathFor(initial)) ? ModelCard.Load(initial).Version : Path.GetFileName(initial);
        }
        if (folds is not null && o.HeldOutFold is { } heldOut)
        {
            configuration[OutOfFoldPresegmentations.HeldOutFoldKey] = heldOut;
            configuration[OutOfFoldPresegmentations.FoldCountKey] = o.FoldCount;
            configuration["foldMethod"] = TrainingFolds.Method;
            configuration[OutOfFoldPresegmentations.HeldOutPatientsKey] = new JsonArray([.. folds.Patients(heldOut).Select(p => (JsonNode?)p)]);
        }
        return configuration;
    }

    /// <summary>
    /// The network to train: the checkpoint with its optimizer state when resuming; the weights of
    /// <see cref="TrainingOptions.InitialModel"/> with a fresh optimizer when fine-tuning; else a new network.
    /// </summary>
    private static ITrainingObjective CreateObjective(TrainingOptions o, string checkpoint, bool resume, IReadOnlyList<int> trainingPatients)
    {
        var optimizer = new OptimizerSettings(o.PeakLearningRate, o.WeightDecay);
        TNetwork Prepare<TNetwork>(Func<string, bool, TNetwork> load, Func<TNetwork> create) where TNetwork : SegmentationNetwork
        {
            if (resume)
            {
                return load(checkpoint, true);
            }
            var network = o.InitialModel is { } initial ? load(initial, false) : create();
            network.CreateOptimizer(optimizer);
            return network;
        }

        if (o.Target == TrainingTarget.Presegmentation)
        {
            var config = o.Widths is null ? PresegmentationConfig.Default : PresegmentationConfig.Default with { Widths = o.Widths };
            return new PresegmentationObjective(Prepare(
                (path, withOptimizer) => PresegmentationNetwork.Load(path, restoreOptimizer: withOptimizer), () => PresegmentationNetwork.Create(config)));
        }

        var presegmentation = PresegmentationNetwork.Load(o.PresegmentationModel!);
        OutOfFoldPresegmentations? outOfFold = null;
        try
        {
            outOfFold = o.OutOfFoldPresegmentationModels is { } foldModels ? OutOfFoldPresegmentations.Load(foldModels, trainingPatients) : null;
            var config = o.Widths is null ? SpineSegDiffConfig.Default : SpineSegDiffConfig.Default with { Widths = o.Widths };
            var diffusion = Prepare(
                (path, withOptimizer) => SpineSegDiffNetwork.Load(path, restoreOptimizer: withOptimizer),
                () =>
                {
                    if (!o.WarmStartFromPresegmentation)
                    {
                        return SpineSegDiffNetwork.Create(config);
                    }
                    // The copied weights only mean the same thing with the presegmentation's widths and slope.
                    var created = SpineSegDiffNetwork.Create(config with { Widths = presegmentation.Config.Widths, LeakySlope = presegmentation.Config.LeakySlope });
                    try
                    {
                        created.InitialiseFrom(presegmentation);
                        return created;
                    }
                    catch
                    {
                        created.Dispose();
                        throw;
                    }
                });
            var presegmentationVersion = File.Exists(ModelCard.PathFor(o.PresegmentationModel!)) ? ModelCard.Load(o.PresegmentationModel!).Version : "unknown";
            return new DiffusionObjective(diffusion, presegmentation, o.MaxTimestep, o.DiffusionSteps, o.CorruptedPresegmentationFraction, outOfFold)
            {
                PresegmentationVersion = presegmentationVersion,
                WarmStarted = o.WarmStartFromPresegmentation,
            };
        }
        catch
        {
            presegmentation.Dispose();
            outOfFold?.Dispose();
            throw;
        }
    }
}
