using System.Diagnostics;
using SpineSegDiff.Imaging.Analysis;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Segmentation.Inference;
using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Segmentation.Evaluation;

/// <summary>What <see cref="ModelEvaluation"/> runs on and how.</summary>
public sealed record EvaluationOptions
{
    /// <summary>SPIDER cases whose real label maps are rendered (validation patients: never trained on).</summary>
    public required IReadOnlyList<SpiderCase> Cases { get; init; }

    public required InferenceProfile Profile { get; init; }

    public IReadOnlyList<MrContrast> Contrasts { get; init; } = [MrContrast.T1, MrContrast.T2, MrContrast.Random];

    /// <summary>Renderings per case and contrast (different seeds: pose, resolution, noise, bias field).</summary>
    public int SeedsPerContrast { get; init; } = 1;

    /// <summary>
    /// t_start values of the Table 2 ablation. They run on the first T2-like rendering of each case only: each costs a
    /// full refinement per image, and the CPU budget of a regenerable report is tens of minutes.
    /// </summary>
    public IReadOnlyList<int> AblationStarts { get; init; } = [0, 10, 30, 100];

    /// <summary>Seed of the diffusion sampling (image i uses Seed + i).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Example panels kept for the report: the images with the lowest presegmentation disc Dice.</summary>
    public int Panels { get; init; } = 3;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Cases.Count == 0)
        {
            errors.Add("No cases to evaluate.");
        }
        if (!Profile.Refine)
        {
            errors.Add("The evaluation compares refinement with the presegmentation: choose a refining profile.");
        }
        errors.AddRange(Profile.Validate());
        if (Contrasts.Count == 0 || SeedsPerContrast < 1)
        {
            errors.Add("Need at least one contrast and one seed per contrast.");
        }
        if (AblationStarts.Any(t => t is < 0 or >= 1000))
        {
            errors.Add("Ablation start timesteps must be in [0, 1000).");
        }
        return errors;
    }
}

/// <summary>One disc of one image: its grading and its Dice before and after refinement.</summary>
public sealed record DiscResult(int Patient, int Rank, DiscGrading? Grading, double PresegmentationDice, double RefinedDice);

/// <summary>One rendered test image's scores.</summary>
public sealed record ImageResult(
    string CaseId,
    MrContrast Contrast,
    int RenderSeed,
    double ResolutionMm,
    double[] PresegmentationDice,
    double[] RefinedDice,
    double MeanUncertainty,
    double RefinementSeconds,
    IReadOnlyList<DiscResult> Discs);

/// <summary>An example kept for the report's figures (model grid).</summary>
public sealed record EvaluationPanel(string Title, float[] Image, byte[] Truth, byte[] Presegmentation, byte[] Refined, float[] Uncertainty);

public sealed record EvaluationResult(
    EvaluationOptions Options,
    IReadOnlyList<ImageResult> Images,
    double[] PooledPresegmentationDice,
    double[] PooledRefinedDice,
    IReadOnlyDictionary<int, double[]> AblationDice,
    double[] AblationPresegmentationDice,
    int AblationImages,
    ErrorDetectionCurve AllPixels,
    ErrorDetectionCurve NearAnatomy,
    EdgeErrors PresegmentationDiscErrors,
    EdgeErrors RefinedDiscErrors,
    IReadOnlyList<EvaluationPanel> Panels,
    StageTimings Timings,
    IReadOnlyDictionary<string, string> ModelVersions,
    TimeSpan Elapsed);

/// <summary>
/// The paper's comparisons on synthetic renderings of real validation anatomy: presegmentation vs SpineSegDiff
/// refinement (Table 1), the effect of t_start (Table 2), discs grouped by pathology (Figure 2), and how well the
/// uncertainty heatmap points at the errors. Scores are on the 320 x 320, 1 mm model grid against the label map
/// rendered with the image, after the same post-processing for both methods.
/// </summary>
public sealed class ModelEvaluation(SegmentationModels models, TrainingSliceGenerator generator)
{
    /// <summary>Rendering seeds apart from the training validation set's, so the report scores images no run selected on.</summary>
    private const int RenderSeedBase = 1_500_000_001;

    /// <summary>Uncertainty AUROC "near anatomy" counts pixels within this many mm of a true or predicted structure.</summary>
    public const int NearAnatomyMm = 5;

    private const int Size = SliceSegmenter.Size;
    private const int Pixels = Size * Size;

    public EvaluationResult Run(EvaluationOptions options, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }
        var total = Stopwatch.StartNew();
        var segmenter = new SliceSegmenter(models);
        var timings = new StageTimings();
        var images = new List<ImageResult>();
        var pooledPreseg = new DiceScore.Accumulator();
        var pooledRefined = new DiceScore.Accumulator();
        var ablationPreseg = new DiceScore.Accumulator();
        var ablation = options.AblationStarts.Distinct().ToDictionary(t => t, _ => new DiceScore.Accumulator());
        var ablationCount = 0;
        var allPixels = new ErrorDetectionCurve();
        var nearAnatomy = new ErrorDetectionCurve();
        var (presegDiscErrors, refinedDiscErrors) = (new EdgeErrors(), new EdgeErrors());
        var panels = new List<(double Score, EvaluationPanel Panel)>();
        var work = options.Cases
            .SelectMany(c => options.Contrasts.SelectMany(contrast => Enumerable.Range(0, options.SeedsPerContrast).Select(k => (Case: c, Contrast: contrast, K: k))))
            .ToList();

        for (var index = 0; index < work.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (spiderCase, contrast, k) = work[index];
            var renderSeed = RenderSeedBase - (index * 104_729);
            var sample = generator.GenerateWithDiscRanks(spiderCase, renderSeed, contrast);
            var imageTimings = new StageTimings();
            var presegProbabilities = segmenter.Presegment(sample.Image, imageTimings);
            var presegLabels = SliceSegmenter.Decode(presegProbabilities, options.Profile);
            var clock = Stopwatch.StartNew();
            var refined = segmenter.Refine(sample.Image, presegProbabilities, options.Profile, options.Seed + index, imageTimings, null, cancellationToken);
            var refineSeconds = clock.Elapsed.TotalSeconds;
            timings.Add(imageTimings);

            var presegDice = DiceScore.Compute(presegLabels, sample.Labels);
            var refinedDice = DiceScore.Compute(refined.Labels, sample.Labels);
            pooledPreseg.Add(presegLabels, sample.Labels);
            pooledRefined.Add(refined.Labels, sample.Labels);
            presegDiscErrors.Add(presegLabels, sample.Labels, SpineSegDiff.Imaging.LabelClasses.Disc, Size);
            refinedDiscErrors.Add(refined.Labels, sample.Labels, SpineSegDiff.Imaging.LabelClasses.Disc, Size);
            var uncertainty = refined.CombinedUncertainty!;
            var near = NearAnatomy(sample.Labels, refined.Labels);
            allPixels.Add(uncertainty, refined.Labels, sample.Labels);
            nearAnatomy.Add(uncertainty, refined.Labels, sample.Labels, near);

            var discs = DiscResults(spiderCase, sample.DiscRanks, presegLabels, refined.Labels);
            images.Add(new ImageResult(
                spiderCase.Id, contrast, renderSeed, sample.Parameters.ResolutionMm, presegDice, refinedDice, MeanWhere(uncertainty, near), refineSeconds, discs));

            var title = $"{spiderCase.Id}, {contrast} rendering {k + 1}";
            panels.Add((presegDice[2], new EvaluationPanel(title, sample.Image, sample.Labels, presegLabels, refined.Labels, uncertainty)));
            panels.Sort((a, b) => a.Score.CompareTo(b.Score));
            if (panels.Count > options.Panels)
            {
                panels.RemoveAt(panels.Count - 1);
            }

            var ablationLine = string.Empty;
            if (contrast == MrContrast.T2 && k == 0 && ablation.Count > 0)
            {
                ablationCount++;
                ablationPreseg.Add(presegLabels, sample.Labels);
                foreach (var (start, accumulator) in ablation)
                {
                    var labels = start == options.Profile.StartTimestep
                        ? refined.Labels
                        : segmenter.Refine(sample.Image, presegProbabilities, options.Profile with { StartTimestep = start }, options.Seed + index, new StageTimings(), null, cancellationToken).Labels;
                    accumulator.Add(labels, sample.Labels);
                }
                ablationLine = $"; t_start ablation {string.Join("/", ablation.Keys)} done";
            }
            progress?.Report(
                $"[{index + 1}/{work.Count}] {title}: disc Dice {presegDice[2]:F3} -> {refinedDice[2]:F3}, " +
                $"refinement {refineSeconds:F1} s{ablationLine}");
        }

        return new EvaluationResult(
            options,
            images,
            pooledPreseg.Scores(),
            pooledRefined.Scores(),
            ablation.ToDictionary(a => a.Key, a => a.Value.Scores()),
            ablationPreseg.Scores(),
            ablationCount,
            allPixels,
            nearAnatomy,
            presegDiscErrors,
            refinedDiscErrors,
            [.. panels.Select(p => p.Panel)],
            timings,
            models.Versions,
            total.Elapsed);
    }

    private IReadOnlyList<DiscResult> DiscResults(SpiderCase spiderCase, byte[] discRanks, byte[] presegmentation, byte[] refined)
    {
        var before = PerDiscDice.Compute(presegmentation, discRanks, Size, Size);
        var after = PerDiscDice.Compute(refined, discRanks, Size, Size).ToDictionary(d => d.Rank, d => d.Dice);
        return [.. before.Select(d => new DiscResult(
            spiderCase.Patient, d.Rank, generator.Catalog.DiscGrading(spiderCase.Patient, d.Rank), d.Dice, after[d.Rank]))];
    }

    /// <summary>Pixels within <see cref="NearAnatomyMm"/> of any true or predicted structure (Chebyshev distance).</summary>
    private static bool[] NearAnatomy(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted)
    {
        var anatomy = new float[Pixels];
        for (var i = 0; i < Pixels; i++)
        {
            anatomy[i] = truth[i] != 0 || predicted[i] != 0 ? 1 : 0;
        }
        SquareWindowMorphology.Dilate(anatomy, Size, Size, NearAnatomyMm);
        return [.. anatomy.Select(v => v > 0)];
    }

    private static double MeanWhere(ReadOnlySpan<float> values, ReadOnlySpan<bool> include)
    {
        double sum = 0;
        long count = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (include[i])
            {
                sum += values[i];
                count++;
            }
        }
        return count == 0 ? 0 : sum / count;
    }
}
