using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>Which network a training run trains.</summary>
public enum TrainingTarget
{
    /// <summary>The nnU-Net-style presegmentation U-Net (soft Dice + BCE).</summary>
    Presegmentation,

    /// <summary>SpineSegDiff (image encoder + denoiser) on noised presegmentations (MSE + Dice + BCE).</summary>
    Diffusion,
}

/// <summary>Settings of one training run; <see cref="Validate"/> lists every problem at once.</summary>
public sealed record TrainingOptions
{
    public required TrainingTarget Target { get; init; }

    /// <summary>Where checkpoints, the training state, the final model and its card go.</summary>
    public required string OutputDirectory { get; init; }

    public int Steps { get; init; } = 2000;

    /// <summary>Batch 4 as in the paper (appendix A.2).</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Peak AdamW rate; null takes the target's default (see <see cref="DefaultLearningRate"/>).</summary>
    public double? LearningRate { get; init; }

    public double WeightDecay { get; init; } = 1e-3;

    public int WarmupSteps { get; init; } = 100;

    /// <summary>
    /// Side of the square training patch cut around the anatomy (see <see cref="TrainingCrop"/>); 320 trains on whole
    /// slices. A multiple of 16 so every U-Net level halves evenly. Validation always uses whole slices.
    /// </summary>
    public int CropSize { get; init; } = 192;

    public int ValidateEvery { get; init; } = 250;

    public int CheckpointEvery { get; init; } = 100;

    public int Seed { get; init; } = 1;

    /// <summary>Stop (with a checkpoint, resumable) once this many steps are done: long CPU runs in several sittings.</summary>
    public int? StopAfterStep { get; init; }

    /// <summary>
    /// Fine-tune: start from this model's weights (its own configuration) with a fresh optimizer, instead of a new
    /// network. How a site adapts the shipped models, and how a run continues in a later sitting from a committed model.
    /// </summary>
    public string? InitialModel { get; init; }

    /// <summary>Channel widths per U-Net level for a new network; null keeps the shipped configuration.</summary>
    public IReadOnlyList<int>? Widths { get; init; }

    /// <summary>Continue from the checkpoint and state in <see cref="OutputDirectory"/>.</summary>
    public bool Resume { get; init; }

    /// <summary>Validation slices per validation case and contrast (T1-like and T2-like).</summary>
    public int ValidationSamplesPerContrast { get; init; } = 2;

    /// <summary>Diffusion only: the presegmentation model whose outputs are noised (the paper's strategy).</summary>
    public string? PresegmentationModel { get; init; }

    /// <summary>Diffusion only: training timesteps are drawn from [0, T_pre); the paper's Table 2 finds 30 enough.</summary>
    public int MaxTimestep { get; init; } = 30;

    /// <summary>
    /// Diffusion only: share of training inputs whose presegmentation is perturbed (see
    /// <see cref="PresegmentationCorruption"/>) so the refiner learns to correct it from the image.
    /// </summary>
    public double CorruptedPresegmentationFraction { get; init; } = 0.5;

    /// <summary>
    /// Diffusion only, new networks: start from the presegmentation model's weights (see
    /// <see cref="SpineSegDiffNetwork.InitialiseFrom"/>) instead of a random initialisation. On a CPU budget of a few
    /// thousand steps a refiner trained from scratch does not even reach the presegmentation it refines.
    /// </summary>
    public bool WarmStartFromPresegmentation { get; init; }

    /// <summary>
    /// Presegmentation only: leave this fold of the training patients out (see <see cref="TrainingFolds"/>), to make
    /// one of the out-of-fold presegmentation networks the refiner trains on.
    /// </summary>
    public int? HeldOutFold { get; init; }

    /// <summary>Number of folds the training patients are dealt into (with <see cref="HeldOutFold"/>).</summary>
    public int FoldCount { get; init; } = 2;

    /// <summary>
    /// Diffusion only: out-of-fold presegmentation models, model k trained without fold k (its card says so). A
    /// training slice of a fold-k patient is presegmented by model k, so the refiner learns from the errors of a
    /// network that has not seen that patient. Validation and inference keep <see cref="PresegmentationModel"/>.
    /// </summary>
    public IReadOnlyList<string>? OutOfFoldPresegmentationModels { get; init; }

    /// <summary>Diffusion only: T of the cosine schedule.</summary>
    public int DiffusionSteps { get; init; } = 1000;

    /// <summary>
    /// The paper trains with AdamW at 1e-4 (500 epochs on real data). The presegmentation net trains from scratch on a
    /// CPU budget of a few thousand steps, where 1e-3 converges several times faster; the diffusion net keeps 1e-4.
    /// </summary>
    public static double DefaultLearningRate(TrainingTarget target) => target == TrainingTarget.Presegmentation ? 1e-3 : 1e-4;

    public double PeakLearningRate => LearningRate ?? DefaultLearningRate(Target);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(OutputDirectory))
        {
            errors.Add("An output directory is required.");
        }
        if (Steps < 1)
        {
            errors.Add($"Steps must be at least 1 (got {Steps}).");
        }
        if (BatchSize is < 1 or > 64)
        {
            errors.Add($"Batch size must be 1-64 (got {BatchSize}).");
        }
        if (PeakLearningRate is not (> 0 and < 1))
        {
            errors.Add($"Learning rate must be in (0, 1) (got {PeakLearningRate}).");
        }
        if (WeightDecay is < 0 or >= 1)
        {
            errors.Add($"Weight decay must be in [0, 1) (got {WeightDecay}).");
        }
        if (Widths is { } widths && (widths.Count is < 2 or > 8 || widths.Any(w => w is < 1 or > 1024)))
        {
            errors.Add("Widths need 2-8 levels of 1-1024 channels.");
        }
        if (Widths is { } levels && CropSize % (1 << (levels.Count - 1)) != 0)
        {
            errors.Add($"Crop size {CropSize} must be divisible by 2^(levels - 1) = {1 << (levels.Count - 1)}.");
        }
        if (InitialModel is not null && (Widths is not null || Resume))
        {
            errors.Add("A fine-tuning start model (--init-from) takes its own widths and cannot be combined with --widths or --resume.");
        }
        if (InitialModel is not null && !File.Exists(InitialModel))
        {
            errors.Add($"Start model not found: {InitialModel}");
        }
        if (StopAfterStep is < 1)
        {
            errors.Add($"Stop-after step must be at least 1 (got {StopAfterStep}).");
        }
        if (CropSize is < 32 or > 320 || CropSize % 16 != 0)
        {
            errors.Add($"Crop size must be a multiple of 16 between 32 and 320 (got {CropSize}).");
        }
        if (WarmupSteps < 0 || ValidateEvery < 1 || CheckpointEvery < 1 || ValidationSamplesPerContrast < 1)
        {
            errors.Add("Warm-up steps must be >= 0; validation interval, checkpoint interval and validation samples >= 1.");
        }
        if (HeldOutFold is { } fold && (Target != TrainingTarget.Presegmentation || fold < 0 || fold >= FoldCount || FoldCount < 2))
        {
            errors.Add($"A held-out fold (--fold) is for presegmentation training and must be 0..{FoldCount - 1} of {FoldCount} folds (got {fold}).");
        }
        if (OutOfFoldPresegmentationModels is { } foldModels)
        {
            if (Target != TrainingTarget.Diffusion || foldModels.Count < 2)
            {
                errors.Add("Out-of-fold presegmentation models (--fold-models) are for diffusion training and need one model per fold, at least 2.");
            }
            errors.AddRange(foldModels.Where(m => !File.Exists(m)).Select(m => $"Out-of-fold presegmentation model not found: {m}"));
        }
        if (Target == TrainingTarget.Diffusion)
        {
            if (string.IsNullOrWhiteSpace(PresegmentationModel))
            {
                errors.Add("Diffusion training needs a presegmentation model (--preseg).");
            }
            else if (!File.Exists(PresegmentationModel))
            {
                errors.Add($"Presegmentation model not found: {PresegmentationModel}");
            }
            if (DiffusionSteps < 2 || MaxTimestep < 1 || MaxTimestep > DiffusionSteps)
            {
                errors.Add($"Need 1 <= T_pre <= T and T >= 2 (got T_pre {MaxTimestep}, T {DiffusionSteps}).");
            }
            if (WarmStartFromPresegmentation && (InitialModel is not null || Widths is not null))
            {
                errors.Add("A warm start from the presegmentation (--from-preseg) takes the presegmentation's widths and cannot be combined with --init-from or --widths.");
            }
            if (CorruptedPresegmentationFraction is < 0 or > 1)
            {
                errors.Add($"The perturbed presegmentation fraction must be in [0, 1] (got {CorruptedPresegmentationFraction}).");
            }
        }
        return errors;
    }
}
