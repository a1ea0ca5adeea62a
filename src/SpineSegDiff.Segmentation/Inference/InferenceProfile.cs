namespace SpineSegDiff.Segmentation.Inference;

/// <summary>
/// How much sampling a segmentation gets. <see cref="Paper"/> is the published setting; <see cref="Fast"/> trades a
/// little uncertainty resolution for a several-fold shorter run (chosen by measurement, docs/evaluation.md).
/// </summary>
public sealed record InferenceProfile
{
    /// <summary>S = 15 samples, K = 10 DDIM steps from t = 30, all 10 steps fused (the paper's setting).</summary>
    public static InferenceProfile Paper { get; } = new() { Name = "paper", Samples = 15, Steps = 10, StartTimestep = 30, FusedSteps = 10 };

    /// <summary>S = 5 samples, K = 3 DDIM steps from t = 30, all fused.</summary>
    public static InferenceProfile Fast { get; } = new() { Name = "fast", Samples = 5, Steps = 3, StartTimestep = 30, FusedSteps = 3 };

    /// <summary>Presegmentation only: the nnU-Net baseline row of the paper; no diffusion, no uncertainty.</summary>
    public static InferenceProfile PresegmentationOnly { get; } = new() { Name = "presegmentation", Refine = false };

    public static IReadOnlyList<InferenceProfile> Named { get; } = [Paper, Fast];

    public required string Name { get; init; }

    /// <summary>False runs the presegmentation alone.</summary>
    public bool Refine { get; init; } = true;

    /// <summary>S, stochastic samples run as one batch per step; their spread is the uncertainty.</summary>
    public int Samples { get; init; } = 15;

    /// <summary>K, DDIM steps (network calls) from <see cref="StartTimestep"/> down to 0.</summary>
    public int Steps { get; init; } = 10;

    /// <summary>t_start, the timestep the presegmentation is noised to; the model is trained on [0, 30).</summary>
    public int StartTimestep { get; init; } = 30;

    /// <summary>Ts, the last steps whose predictions are fused (Eq. 3) and whose entropy makes the heatmap.</summary>
    public int FusedSteps { get; init; } = 10;

    /// <summary>DDIM η: 0 deterministic after the initial noise (reference code), up to 1 (DDPM-like).</summary>
    public double Eta { get; init; }

    /// <summary>Threshold of the fused class probabilities.</summary>
    public float Threshold { get; init; } = 0.5f;

    /// <summary>Connected components smaller than this (mm², at 1 mm model pixels = pixels) are dropped.</summary>
    public int MinimumComponentMm2 { get; init; } = 64;

    /// <summary>Every profile a routing rule or --profile may name: the refining profiles and "presegmentation".</summary>
    public static IReadOnlyList<InferenceProfile> Selectable { get; } = [Paper, Fast, PresegmentationOnly];

    public static InferenceProfile? FromName(string name) =>
        Selectable.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    public IReadOnlyList<string> Validate(int diffusionSteps = 1000)
    {
        var errors = new List<string>();
        if (Threshold is <= 0 or >= 1)
        {
            errors.Add($"Threshold must be in (0, 1) (got {Threshold}).");
        }
        if (MinimumComponentMm2 < 0)
        {
            errors.Add($"Minimum component area must be >= 0 (got {MinimumComponentMm2}).");
        }
        if (!Refine)
        {
            return errors;
        }
        if (Samples is < 1 or > 64)
        {
            errors.Add($"Samples must be 1-64 (got {Samples}).");
        }
        if (Steps is < 1 or > 1000)
        {
            errors.Add($"Steps must be 1-1000 (got {Steps}).");
        }
        if (StartTimestep < 0 || StartTimestep >= diffusionSteps)
        {
            errors.Add($"Start timestep must be in [0, {diffusionSteps}) (got {StartTimestep}).");
        }
        if (FusedSteps < 1 || FusedSteps > Steps)
        {
            errors.Add($"Fused steps must be 1..steps ({Steps}) (got {FusedSteps}).");
        }
        if (Eta is < 0 or > 1)
        {
            errors.Add($"Eta must be in [0, 1] (got {Eta}).");
        }
        return errors;
    }

    public override string ToString() => Refine
        ? $"{Name} (S={Samples}, K={Steps}, t_start={StartTimestep}, Ts={FusedSteps}, eta={Eta})"
        : $"{Name} (no refinement)";
}
