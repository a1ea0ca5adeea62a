namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>
/// Where the acquisition grid looks into a canonical anatomy slice: acquisition pixel (row, col) sits at
/// (y, x) = ((row - (Rows-1)/2) * RowSpacing, (col - (Columns-1)/2) * ColumnSpacing) mm from the grid centre, and
/// that point shows the anatomy at source millimetres (A·(y, x) + B + elastic(y, x)), source pixel = mm / spacing.
/// </summary>
internal sealed record AcquisitionGeometry(
    int Rows,
    int Columns,
    double RowSpacing,
    double ColumnSpacing,
    double A00,
    double A01,
    double A10,
    double A11,
    double B0,
    double B1,
    double ElasticAmplitudeMm,
    NoiseField? ElasticY = null,
    NoiseField? ElasticX = null)
{
    /// <summary>Source millimetres (row axis, column axis) shown at acquisition offset (y, x) mm from the grid centre.</summary>
    public (double Y, double X) AnatomyPoint(double y, double x)
    {
        var ay = A00 * y + A01 * x + B0;
        var ax = A10 * y + A11 * x + B1;
        if (ElasticY is not null && ElasticX is not null)
        {
            ay += ElasticAmplitudeMm * ElasticY.Sample(y, x);
            ax += ElasticAmplitudeMm * ElasticX.Sample(y, x);
        }
        return (ay, ax);
    }

    /// <summary>Smooth displacement fields for an elastic deformation over an acquisition of the given size.</summary>
    public static (NoiseField Y, NoiseField X) ElasticFields(Random random, double halfExtentMm) =>
        (new NoiseField(random, 35, 0, 0, halfExtentMm), new NoiseField(random, 35, 0, 0, halfExtentMm));

    public double CentreRow => (Rows - 1) / 2.0;

    public double CentreColumn => (Columns - 1) / 2.0;

    /// <summary>The anatomy slice's own grid: no warp (phantoms, whose label map must match voxel for voxel).</summary>
    public static AcquisitionGeometry Native(int rows, int columns, double rowSpacing, double columnSpacing) =>
        new(rows, columns, rowSpacing, columnSpacing, 1, 0, 0, 1, (rows - 1) / 2.0 * rowSpacing, (columns - 1) / 2.0 * columnSpacing, 0);
}

/// <summary>Everything random about one rendered image apart from the geometry.</summary>
internal sealed class RenderSettings
{
    public required MrContrast Contrast { get; init; }

    public required TissueIntensities Tissue { get; init; }

    /// <summary>Partial-volume blur (Gaussian sigma, mm).</summary>
    public double BlurMm { get; init; }

    /// <summary>Amplitude of the smooth multiplicative bias field (log scale).</summary>
    public double BiasAmplitude { get; init; }

    /// <summary>Posterior-to-anterior fall-off of a spine array coil (log scale over 100 mm).</summary>
    public double CoilGradient { get; init; }

    /// <summary>Rician noise sigma relative to the brightest tissue.</summary>
    public double NoiseSigma { get; init; }

    public double TextureAmplitude { get; init; }

    public double CortexMm { get; init; }

    public double AnnulusMm { get; init; }

    public double MuscleDepthMm { get; init; }

    public double SubcutaneousFatMm { get; init; }

    public double PrevertebralMm { get; init; }

    public double VesselCentreMm { get; init; }

    public double VesselRadiusMm { get; init; }

    public double AbdomenDepthMm { get; init; }

    public double FatFraction { get; init; }

    public static RenderSettings Sample(MrContrast contrast, Random random)
    {
        double U(double lo, double hi) => lo + random.NextDouble() * (hi - lo);
        return new RenderSettings
        {
            Contrast = contrast,
            Tissue = ContrastModel.Sample(contrast, random),
            BlurMm = U(0.2, 0.8),
            BiasAmplitude = U(0.0, 0.35),
            CoilGradient = U(0.0, 0.7),
            NoiseSigma = U(0.005, 0.05),
            TextureAmplitude = U(0.03, 0.15),
            CortexMm = U(0.6, 1.8),
            AnnulusMm = U(1.0, 3.0),
            MuscleDepthMm = U(25, 70),
            SubcutaneousFatMm = U(5, 35),
            PrevertebralMm = U(12, 30),
            VesselCentreMm = U(6, 14),
            VesselRadiusMm = U(5, 11),
            AbdomenDepthMm = U(90, 230),
            FatFraction = U(0.2, 0.7),
        };
    }
}

/// <summary>
/// Renders an MR-like image of one anatomy slice on an acquisition grid: tissue intensities with texture (vertebral
/// cortex and disc annulus rims from the label geometry; procedural fat, muscle, vessels and bowel around the
/// spine), then partial-volume blur, bias field and coil fall-off, and Rician noise. Deterministic for a given
/// <see cref="Random"/>. Writes raw intensities (brightest tissue about 1); preprocessing normalises them.
/// </summary>
internal static class SyntheticMrRenderer
{
    public static void Render(
        SpineAnatomy anatomy,
        int rasSlice,
        AcquisitionGeometry acquisition,
        RenderSettings settings,
        Random random,
        Span<float> output)
    {
        int rows = acquisition.Rows, cols = acquisition.Columns;
        if (output.Length != rows * cols)
        {
            throw new ArgumentException($"Output holds {output.Length} pixels, acquisition has {rows}x{cols}.", nameof(output));
        }
        var slice = anatomy.Slice(rasSlice);
        var anterior = anatomy.AnteriorOutline(rasSlice);
        var posterior = anatomy.PosteriorOutline(rasSlice);
        int srcRows = anatomy.Rows, srcCols = anatomy.Columns;
        double srcRowSp = anatomy.RowSpacing, srcColSp = anatomy.ColumnSpacing;
        var t = settings.Tissue;

        // Tissue code -> mean intensity; disc codes get their own grade-dependent value (plus a little per-disc spread).
        Span<float> mean = stackalloc float[256];
        mean[0] = t.Muscle;
        mean[LabelClasses.SpinalCanal] = t.Canal;
        mean[LabelClasses.Vertebra] = t.Marrow;
        for (var d = 1; d <= anatomy.DiscCount && SpineAnatomy.DiscBase + d < 256; d++)
        {
            mean[SpineAnatomy.DiscBase + d] = Math.Max(0.01f, t.Disc(anatomy.Pfirrmann(d)) * (float)(0.92 + 0.16 * random.NextDouble()));
        }

        var halfExtent = 0.5 * Math.Max(rows * acquisition.RowSpacing, cols * acquisition.ColumnSpacing) + 20;
        var fine = new NoiseField(random, 2.5, 0, 0, halfExtent);
        var medium = new NoiseField(random, 7, 0, 0, halfExtent);
        var coarse = new NoiseField(random, 18, 0, 0, halfExtent);
        var bias = new NoiseField(random, 110, 0, 0, halfExtent);
        var elasticY = acquisition.ElasticY;
        var elasticX = acquisition.ElasticX;
        var noiseSeed = (ulong)random.NextInt64();

        var rowFine = new float[cols];
        var rowMedium = new float[cols];
        var rowCoarse = new float[cols];
        var rowBias = new float[cols];
        var rowEy = new float[cols];
        var rowEx = new float[cols];

        var x0 = -acquisition.CentreColumn * acquisition.ColumnSpacing;
        var dx = acquisition.ColumnSpacing;
        var elastic = elasticY is not null && elasticX is not null ? acquisition.ElasticAmplitudeMm : 0;
        var texture = (float)settings.TextureAmplitude;
        var cortexRows = settings.CortexMm / srcRowSp;
        var cortexCols = settings.CortexMm / srcColSp;
        var annulusRows = settings.AnnulusMm / srcRowSp;
        var annulusCols = settings.AnnulusMm / srcColSp;
        var biasAmplitude = (float)settings.BiasAmplitude;
        var coil = settings.CoilGradient / 100.0;

        for (var r = 0; r < rows; r++)
        {
            var y = (r - acquisition.CentreRow) * acquisition.RowSpacing;
            fine.SampleRow(y, x0, dx, rowFine);
            medium.SampleRow(y, x0, dx, rowMedium);
            coarse.SampleRow(y, x0, dx, rowCoarse);
            bias.SampleRow(y, x0, dx, rowBias);
            if (elastic > 0)
            {
                elasticY!.SampleRow(y, x0, dx, rowEy);
                elasticX!.SampleRow(y, x0, dx, rowEx);
            }
            var outRow = output.Slice(r * cols, cols);
            var baseY = acquisition.A00 * y + acquisition.B0;
            var baseX = acquisition.A10 * y + acquisition.B1;
            for (var c = 0; c < cols; c++)
            {
                var x = x0 + c * dx;
                var ay = baseY + acquisition.A01 * x;
                var ax = baseX + acquisition.A11 * x;
                if (elastic > 0)
                {
                    ay += elastic * rowEy[c];
                    ax += elastic * rowEx[c];
                }
                var sr = ay / srcRowSp;
                var sc = ax / srcColSp;
                var ir = (int)Math.Floor(sr + 0.5);
                var ic = (int)Math.Floor(sc + 0.5);
                var inside = (uint)ir < (uint)srcRows && (uint)ic < (uint)srcCols;
                var tissue = inside ? slice[ir * srcCols + ic] : (byte)0;
                float value;
                if (tissue == LabelClasses.Vertebra)
                {
                    // Cortical bone and endplates: dark rim where a neighbour within the cortex width is not bone.
                    var rim = !Same(slice, srcRows, srcCols, sr + cortexRows, sc, tissue)
                        || !Same(slice, srcRows, srcCols, sr - cortexRows, sc, tissue)
                        || !Same(slice, srcRows, srcCols, sr, sc + cortexCols, tissue)
                        || !Same(slice, srcRows, srcCols, sr, sc - cortexCols, tissue);
                    value = rim ? t.Cortex : mean[tissue] * (1 + 1.5f * texture * rowFine[c] + texture * rowMedium[c]);
                }
                else if (tissue >= SpineAnatomy.DiscBase)
                {
                    // Annulus fibrosus: the disc's outer rim is darker than the nucleus on fluid-sensitive images.
                    var rim = !Same(slice, srcRows, srcCols, sr + annulusRows, sc, tissue)
                        || !Same(slice, srcRows, srcCols, sr - annulusRows, sc, tissue)
                        || !Same(slice, srcRows, srcCols, sr, sc + annulusCols, tissue)
                        || !Same(slice, srcRows, srcCols, sr, sc - annulusCols, tissue);
                    var v = mean[tissue];
                    value = (rim ? 0.55f * v + 0.45f * t.Ligament : v) * (1 + 0.5f * texture * rowMedium[c]);
                }
                else if (tissue == LabelClasses.SpinalCanal)
                {
                    value = mean[tissue] * (1 + 0.3f * texture * rowMedium[c]);
                }
                else
                {
                    var outlineRow = Math.Clamp(ir, 0, srcRows - 1);
                    value = Background(t, settings, (sc - posterior[outlineRow]) * srcColSp, (anterior[outlineRow] - sc) * srcColSp, rowFine[c], rowMedium[c], rowCoarse[c], texture);
                }
                // Spine coils sit behind the patient: signal falls toward anterior (smaller x).
                var gain = MathF.Exp(biasAmplitude * rowBias[c] + (float)(coil * x));
                outRow[c] = value * gain;
            }
        }

        GaussianBlur(output, rows, cols, settings.BlurMm / acquisition.RowSpacing, settings.BlurMm / acquisition.ColumnSpacing);
        AddRicianNoise(output, (float)settings.NoiseSigma, noiseSeed);
    }

    private static bool Same(ReadOnlySpan<byte> slice, int rows, int cols, double r, double c, byte tissue)
    {
        var ir = (int)Math.Floor(r + 0.5);
        var ic = (int)Math.Floor(c + 0.5);
        return (uint)ir >= (uint)rows || (uint)ic >= (uint)cols || slice[ir * cols + ic] == tissue;
    }

    /// <summary>
    /// Unlabelled tissue, placed by its distance (mm) behind the spine's posterior outline or in front of its anterior
    /// outline: paraspinal muscle, subcutaneous fat and air behind; great vessels, psoas, bowel and the abdominal wall
    /// in front; epidural fat and ligaments in between. Edges wobble with the coarse noise so no two bodies match.
    /// </summary>
    private static float Background(TissueIntensities t, RenderSettings s, double behind, double inFront, float fine, float medium, float coarse, float texture)
    {
        var wobble = 8 * coarse;
        if (behind > 0)
        {
            var muscleEnd = s.MuscleDepthMm + wobble;
            if (behind < muscleEnd)
            {
                // Marbling: fatty streaks in paraspinal muscle.
                return medium > 0.55 ? t.Fat : t.Muscle * (1 + texture * fine);
            }
            var fatEnd = muscleEnd + s.SubcutaneousFatMm;
            if (behind < fatEnd)
            {
                return t.Fat * (1 + 0.5f * texture * fine);
            }
            return behind < fatEnd + 2 ? t.Muscle : t.Air;
        }
        if (inFront > 0)
        {
            if (inFront < s.PrevertebralMm + 0.3 * wobble)
            {
                return Math.Abs(inFront - s.VesselCentreMm) < s.VesselRadiusMm ? t.FlowVoid : t.Muscle * (1 + texture * fine);
            }
            var abdomenEnd = s.AbdomenDepthMm + wobble;
            if (inFront < abdomenEnd)
            {
                return coarse + 0.6f * medium > (float)(1 - 2 * s.FatFraction) ? t.Fat * (1 + 0.5f * texture * fine) : t.Bowel * (1 + 2 * texture * medium);
            }
            if (inFront < abdomenEnd + 10)
            {
                return t.Muscle;
            }
            return inFront < abdomenEnd + 10 + 0.5 * s.SubcutaneousFatMm ? t.Fat : t.Air;
        }
        // Between the outlines: epidural fat, ligaments, facet joints.
        return medium > 0.1 ? t.Fat * (0.8f + 0.2f * fine) : t.Ligament;
    }

    internal static void GaussianBlur(Span<float> image, int rows, int cols, double sigmaRows, double sigmaCols)
    {
        var pooled = System.Buffers.ArrayPool<float>.Shared.Rent(image.Length);
        try
        {
            Blur(image, pooled.AsSpan(0, image.Length), rows, cols, sigmaRows, sigmaCols);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(pooled);
        }
    }

    private static void Blur(Span<float> image, Span<float> scratch, int rows, int cols, double sigmaRows, double sigmaCols)
    {
        var kernelCols = Kernel(sigmaCols);
        var kernelRows = Kernel(sigmaRows);
        if (kernelCols.Length > 1)
        {
            var radius = kernelCols.Length / 2;
            for (var r = 0; r < rows; r++)
            {
                var src = image.Slice(r * cols, cols);
                var dst = scratch.Slice(r * cols, cols);
                for (var c = 0; c < cols; c++)
                {
                    float sum = 0;
                    for (var k = -radius; k <= radius; k++)
                    {
                        var cc = Math.Clamp(c + k, 0, cols - 1);
                        sum += kernelCols[k + radius] * src[cc];
                    }
                    dst[c] = sum;
                }
            }
            scratch.CopyTo(image);
        }
        if (kernelRows.Length > 1)
        {
            var radius = kernelRows.Length / 2;
            var dst = scratch;
            for (var r = 0; r < rows; r++)
            {
                var outRow = dst.Slice(r * cols, cols);
                outRow.Clear();
                for (var k = -radius; k <= radius; k++)
                {
                    var rr = Math.Clamp(r + k, 0, rows - 1);
                    var w = kernelRows[k + radius];
                    var src = image.Slice(rr * cols, cols);
                    for (var c = 0; c < cols; c++)
                    {
                        outRow[c] += w * src[c];
                    }
                }
            }
            scratch.CopyTo(image);
        }
    }

    private static float[] Kernel(double sigma)
    {
        if (sigma < 0.2)
        {
            return [1f];
        }
        var radius = Math.Max(1, (int)Math.Ceiling(2.5 * sigma));
        var kernel = new float[2 * radius + 1];
        double sum = 0;
        for (var k = -radius; k <= radius; k++)
        {
            var w = Math.Exp(-0.5 * k * k / (sigma * sigma));
            kernel[k + radius] = (float)w;
            sum += w;
        }
        for (var k = 0; k < kernel.Length; k++)
        {
            kernel[k] = (float)(kernel[k] / sum);
        }
        return kernel;
    }

    /// <summary>Magnitude of a complex signal with Gaussian noise in both channels: the Rician noise of MR magnitude images.</summary>
    private static void AddRicianNoise(Span<float> image, float sigma, ulong seed)
    {
        if (sigma <= 0)
        {
            return;
        }
        var rng = new FastRandom(seed);
        for (var n = 0; n < image.Length; n++)
        {
            var re = image[n] + sigma * rng.NextGaussian();
            var im = sigma * rng.NextGaussian();
            image[n] = MathF.Sqrt(re * re + im * im);
        }
    }
}
