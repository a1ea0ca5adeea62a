using System.Buffers;
using System.Collections.Concurrent;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Imaging.Spider;

namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>The random choices behind one training sample (for logs, debugging and tests).</summary>
public sealed record SampleParameters(
    string CaseId,
    int Seed,
    MrContrast Contrast,
    int RasSlice,
    int SliceOffset,
    int AcquisitionRows,
    int AcquisitionColumns,
    double ResolutionMm,
    double RotationDegrees,
    double Scale,
    double ElasticMm,
    float NormalisationReference);

/// <summary>One training pair on the 320x320, 1 mm model grid: normalised image in [0, 1] and labels 0..3, row-major.</summary>
public sealed record TrainingSample(float[] Image, byte[] Labels, SampleParameters Parameters);

/// <summary>
/// A <see cref="TrainingSample"/> plus, per pixel, which disc it belongs to: 0 where the label is not a disc, else
/// the disc's rank from the bottom (1 = lowest, the gradings file's "IVD label"). Lets evaluation score discs one
/// by one and relate errors to <see cref="DiscGrading"/>.
/// </summary>
public sealed record EvaluationSample(float[] Image, byte[] Labels, byte[] DiscRanks, SampleParameters Parameters);

/// <summary>
/// Makes synthetic 2D training pairs from the real SPIDER label maps. Each sample is rendered as a sagittal MR
/// acquisition (random contrast, resolution, field of view, pose, elastic deformation, blur, bias, Rician noise)
/// and then run through exactly the inference preprocessing (<see cref="SlicePreprocessor"/>): 98th-percentile
/// normalisation on the acquired grid, resampling to 1 mm, centring in 320x320. Labels come from the same anatomy
/// through the same geometry, sampled directly on the model grid (nearest neighbour).
/// The output depends only on (case, seed, contrast, options). Thread-safe: one instance can serve all workers;
/// label volumes are loaded once per case on first use and shared.
/// </summary>
public sealed class TrainingSliceGenerator
{
    public const int Size = SlicePreprocessor.Size;

    private readonly ConcurrentDictionary<string, Lazy<SpineAnatomy>> _anatomy = new(StringComparer.Ordinal);

    public TrainingSliceGenerator(SpiderCatalog catalog, SynthesisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        Catalog = catalog;
        Options = options ?? SynthesisOptions.Default;
    }

    public SpiderCatalog Catalog { get; }

    public SynthesisOptions Options { get; }

    /// <summary>Loads the label volumes of the given cases now (in parallel) instead of on first use.</summary>
    public void Preload(IEnumerable<SpiderCase> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        Parallel.ForEach(cases, c => Anatomy(c));
    }

    /// <summary>A new sample; <paramref name="contrast"/> null draws T1/T2/random by the options' weights.</summary>
    public TrainingSample Generate(SpiderCase spiderCase, int seed, MrContrast? contrast = null)
    {
        var image = new float[Size * Size];
        var labels = new byte[Size * Size];
        var parameters = Generate(spiderCase, seed, image, labels, contrast);
        return new TrainingSample(image, labels, parameters);
    }

    /// <summary>Allocation-light form writing into caller buffers of <see cref="Size"/>² elements (e.g. a batch tensor's slot).</summary>
    public SampleParameters Generate(SpiderCase spiderCase, int seed, Span<float> image, Span<byte> labels, MrContrast? contrast = null)
    {
        ArgumentNullException.ThrowIfNull(spiderCase);
        if (image.Length != Size * Size || labels.Length != Size * Size)
        {
            throw new ArgumentException($"Image and label buffers must hold {Size}x{Size} elements.");
        }
        return GenerateInto(spiderCase, seed, image, labels, [], contrast);
    }

    /// <summary>
    /// The sample <see cref="Generate(SpiderCase, int, MrContrast?)"/> gives for the same arguments (identical image,
    /// labels and parameters), plus its disc-rank map.
    /// </summary>
    public EvaluationSample GenerateWithDiscRanks(SpiderCase spiderCase, int seed, MrContrast? contrast = null)
    {
        var image = new float[Size * Size];
        var labels = new byte[Size * Size];
        var discRanks = new byte[Size * Size];
        var parameters = Generate(spiderCase, seed, image, labels, discRanks, contrast);
        return new EvaluationSample(image, labels, discRanks, parameters);
    }

    /// <summary>
    /// As <see cref="Generate(SpiderCase, int, Span{float}, Span{byte}, MrContrast?)"/>, also writing each pixel's
    /// disc rank from the bottom (0 = not a disc) into <paramref name="discRanks"/>.
    /// </summary>
    public SampleParameters Generate(SpiderCase spiderCase, int seed, Span<float> image, Span<byte> labels, Span<byte> discRanks, MrContrast? contrast = null)
    {
        ArgumentNullException.ThrowIfNull(spiderCase);
        if (image.Length != Size * Size || labels.Length != Size * Size || discRanks.Length != Size * Size)
        {
            throw new ArgumentException($"Image, label and disc-rank buffers must hold {Size}x{Size} elements.");
        }
        return GenerateInto(spiderCase, seed, image, labels, discRanks, contrast);
    }

    /// <summary>
    /// The one sampling path behind every overload. The disc ranks consume no random numbers and come from the same
    /// tissue code as the labels, so asking for them cannot change the image or the labels.
    /// </summary>
    /// <param name="discRanks">Empty to skip.</param>
    private SampleParameters GenerateInto(SpiderCase spiderCase, int seed, Span<float> image, Span<byte> labels, Span<byte> discRanks, MrContrast? contrast)
    {
        var anatomy = Anatomy(spiderCase);
        var o = Options;
        var random = new Random(seed);
        double U(double lo, double hi) => lo + random.NextDouble() * (hi - lo);

        var chosen = contrast ?? DrawContrast(random);
        var maxOffset = Math.Max(1, (int)Math.Floor(o.MaxSliceOffsetMm / anatomy.SliceSpacing));
        var offset = random.Next(-maxOffset, maxOffset + 1);
        var rasSlice = Math.Clamp(anatomy.SpineCentreSlice + offset, anatomy.FirstSlice, anatomy.FirstSlice + anatomy.SliceCount - 1);

        var resolution = U(o.MinResolutionMm, o.MaxResolutionMm);
        var fovRows = U(o.MinFovMm, o.MaxFovMm);
        var fovCols = fovRows * U(o.MinFovAspect, 1.0);
        var rows = Math.Clamp((int)Math.Round(fovRows / resolution), 16, o.MaxMatrix);
        var cols = Math.Clamp((int)Math.Round(fovCols / resolution), 16, o.MaxMatrix);
        // A matrix cap coarsens the pixel, never shrinks the field of view.
        var spacing = Math.Max(fovRows / rows, fovCols / cols);

        var angle = U(-o.MaxRotationDegrees, o.MaxRotationDegrees) * Math.PI / 180;
        var scale = 1 + U(-o.MaxScale, o.MaxScale);
        var elastic = U(0, o.MaxElasticMm);
        var (centreRow, centreCol) = anatomy.SpineCentre(rasSlice);
        var b0 = centreRow * anatomy.RowSpacing + U(-o.MaxShiftRowsMm, o.MaxShiftRowsMm);
        var b1 = centreCol * anatomy.ColumnSpacing + U(-o.MaxShiftColumnsMm, o.MaxShiftColumnsMm);
        var (sin, cos) = Math.SinCos(angle);
        var (elasticY, elasticX) = AcquisitionGeometry.ElasticFields(random, 0.5 * Math.Max(rows, cols) * spacing + 20);
        var acquisition = new AcquisitionGeometry(rows, cols, spacing, spacing, scale * cos, -scale * sin, scale * sin, scale * cos, b0, b1, elastic, elasticY, elasticX);
        var settings = RenderSettings.Sample(chosen, random);

        var n = rows * cols;
        var pixels = ArrayPool<float>.Shared.Rent(n);
        var scratch = ArrayPool<float>.Shared.Rent(n);
        try
        {
            SyntheticMrRenderer.Render(anatomy, rasSlice, acquisition, settings, random, pixels.AsSpan(0, n));
            var (transform, reference) = SlicePreprocessor.Preprocess(pixels.AsSpan(0, n), rows, cols, spacing, spacing, image, scratch);
            SampleLabels(anatomy, rasSlice, acquisition, transform, labels, discRanks);
            return new SampleParameters(spiderCase.Id, seed, chosen, rasSlice, rasSlice - anatomy.SpineCentreSlice, rows, cols, spacing,
                angle * 180 / Math.PI, scale, elastic, reference);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pixels);
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Labels on the model grid: each model pixel goes back through the preprocessing transform to the acquisition
    /// grid and through the pose/elastic warp to the anatomy, the same path its image intensity took.
    /// Outside the acquired field of view the image is zero padding and the label background.
    /// The tissue code is looked up once per pixel; its class goes to <paramref name="labels"/> and, unless
    /// <paramref name="discRanks"/> is empty, its disc rank (code - <see cref="SpineAnatomy.DiscBase"/>) to that.
    /// </summary>
    private static void SampleLabels(SpineAnatomy anatomy, int rasSlice, AcquisitionGeometry acquisition, CanonicalGridTransform transform, Span<byte> labels, Span<byte> discRanks)
    {
        var ranks = !discRanks.IsEmpty;
        var slice = anatomy.Slice(rasSlice);
        int srcRows = anatomy.Rows, srcCols = anatomy.Columns;
        for (var u = 0; u < Size; u++)
        {
            var row = transform.SourceRow(u);
            var y = (row - acquisition.CentreRow) * acquisition.RowSpacing;
            var inRows = row >= -0.5 && row <= acquisition.Rows - 0.5;
            for (var v = 0; v < Size; v++)
            {
                var col = transform.SourceColumn(v);
                var outsideFov = !inRows || col < -0.5 || col > acquisition.Columns - 0.5;
                byte tissue = 0;
                if (!outsideFov)
                {
                    var (ay, ax) = acquisition.AnatomyPoint(y, (col - acquisition.CentreColumn) * acquisition.ColumnSpacing);
                    var ir = (int)Math.Floor(ay / anatomy.RowSpacing + 0.5);
                    var ic = (int)Math.Floor(ax / anatomy.ColumnSpacing + 0.5);
                    if ((uint)ir < (uint)srcRows && (uint)ic < (uint)srcCols)
                    {
                        tissue = slice[ir * srcCols + ic];
                    }
                }
                labels[u * Size + v] = SpineAnatomy.ClassOf(tissue);
                if (ranks)
                {
                    discRanks[u * Size + v] = tissue >= SpineAnatomy.DiscBase ? (byte)(tissue - SpineAnatomy.DiscBase) : (byte)0;
                }
            }
        }
    }

    internal SpineAnatomy Anatomy(SpiderCase spiderCase) =>
        _anatomy.GetOrAdd(spiderCase.Id, _ => new Lazy<SpineAnatomy>(
            () => SpineAnatomy.Load(spiderCase, Catalog, Options.MaxSliceOffsetMm + 5),
            LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private MrContrast DrawContrast(Random random)
    {
        var o = Options;
        var total = o.T1Weight + o.T2Weight + o.RandomWeight;
        var u = random.NextDouble() * total;
        return u < o.T1Weight ? MrContrast.T1 : u < o.T1Weight + o.T2Weight ? MrContrast.T2 : MrContrast.Random;
    }
}
