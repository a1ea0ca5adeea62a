namespace SpineSegDiff.Segmentation.Diffusion;

/// <summary>
/// The cosine noise schedule of Nichol and Dhariwal (2021) over T discrete steps, as the SpineSegDiff paper uses:
/// alpha-bar follows cos²((t/T + s)/(1 + s) · π/2), normalised to 1 at t = 0, with each step's beta clipped at 0.999
/// so the last steps stay finite. Index t runs 0..T-1; <see cref="AlphaBar"/>(t) is the signal fraction of x_t.
/// </summary>
public sealed class CosineNoiseSchedule
{
    /// <summary>The offset s of the paper that keeps beta small near t = 0.</summary>
    public const double Offset = 0.008;
    private const double MaxBeta = 0.999;
    private readonly double[] _alphaBar;

    public CosineNoiseSchedule(int steps = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        Steps = steps;
        _alphaBar = new double[steps];
        var product = 1.0;
        for (var t = 0; t < steps; t++)
        {
            var beta = Math.Min(1 - (Continuous(t + 1, steps) / Continuous(t, steps)), MaxBeta);
            product *= 1 - beta;
            _alphaBar[t] = product;
        }
    }

    /// <summary>T, the number of diffusion steps.</summary>
    public int Steps { get; }

    /// <summary>The cumulative product of (1 - beta) up to and including step t.</summary>
    public double AlphaBar(int t)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(t);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(t, Steps);
        return _alphaBar[t];
    }

    /// <summary>
    /// Forward process q(x_t | x_0): x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε, with ε supplied by the caller so the
    /// random stream (and thus reproducibility) stays in the caller's hands.
    /// </summary>
    public void AddNoise(ReadOnlySpan<float> x0, ReadOnlySpan<float> noise, int t, Span<float> xt)
    {
        if (noise.Length != x0.Length || xt.Length != x0.Length)
        {
            throw new ArgumentException("x0, noise and x_t must have the same length.");
        }
        var signal = (float)Math.Sqrt(AlphaBar(t));
        var sigma = (float)Math.Sqrt(1 - AlphaBar(t));
        for (var i = 0; i < x0.Length; i++)
        {
            xt[i] = (signal * x0[i]) + (sigma * noise[i]);
        }
    }

    private static double Continuous(int t, int steps)
    {
        var angle = (((double)t / steps) + Offset) / (1 + Offset) * Math.PI / 2;
        return Math.Cos(angle) * Math.Cos(angle);
    }
}
