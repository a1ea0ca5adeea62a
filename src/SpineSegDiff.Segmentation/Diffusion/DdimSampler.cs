namespace SpineSegDiff.Segmentation.Diffusion;

/// <summary>
/// DDIM (Song et al. 2021) for a network that predicts the clean sample x0 directly, as SpineSegDiff's does. The
/// predicted noise follows from x_t and x0: ε̂ = (x_t − sqrt(ᾱ_t)·x̂0) / sqrt(1 − ᾱ_t), and
/// x_prev = sqrt(ᾱ_prev)·x̂0 + sqrt(1 − ᾱ_prev − σ²)·ε̂ + σ·z with σ = η·sqrt((1 − ᾱ_prev)/(1 − ᾱ_t))·sqrt(1 − ᾱ_t/ᾱ_prev).
/// η = 0 is the deterministic sampler of the reference code; η = 1 matches DDPM's posterior variance.
/// </summary>
public sealed class DdimSampler
{
    /// <summary>The "previous timestep" after the last one: the clean sample, ᾱ = 1.</summary>
    public const int Clean = -1;

    public DdimSampler(CosineNoiseSchedule schedule, double eta)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfNegative(eta);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(eta, 1);
        Schedule = schedule;
        Eta = eta;
    }

    public CosineNoiseSchedule Schedule { get; }

    public double Eta { get; }

    /// <summary>
    /// The <paramref name="steps"/> timesteps from <paramref name="start"/> down to 0, evenly spaced and rounded
    /// (start 30, 10 steps: 30, 27, 23, 20, 17, 13, 10, 7, 3, 0). A start below steps − 1 repeats timesteps, which
    /// DDIM tolerates (a step to the same timestep leaves x_t unchanged when η = 0).
    /// </summary>
    public static int[] Timesteps(int start, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (steps == 1)
        {
            return [start];
        }
        var timesteps = new int[steps];
        for (var i = 0; i < steps; i++)
        {
            timesteps[i] = (int)Math.Round(start * (double)(steps - 1 - i) / (steps - 1), MidpointRounding.AwayFromZero);
        }
        return timesteps;
    }

    /// <summary>σ of the step from <paramref name="t"/> to <paramref name="previous"/> (0 when η = 0 or previous is clean).</summary>
    public double Sigma(int t, int previous)
    {
        var alphaBar = Schedule.AlphaBar(t);
        var alphaBarPrevious = AlphaBarOrClean(previous);
        if (Eta == 0 || alphaBarPrevious <= alphaBar)
        {
            return 0;
        }
        return Eta * Math.Sqrt((1 - alphaBarPrevious) / (1 - alphaBar)) * Math.Sqrt(1 - (alphaBar / alphaBarPrevious));
    }

    /// <summary>
    /// One DDIM step: x_prev from x_t and the network's x̂0. <paramref name="noise"/> (standard normal, same length)
    /// is only read when σ &gt; 0; pass an empty span for η = 0.
    /// </summary>
    public void Step(ReadOnlySpan<float> xt, ReadOnlySpan<float> predictedX0, int t, int previous, ReadOnlySpan<float> noise, Span<float> xPrevious)
    {
        if (predictedX0.Length != xt.Length || xPrevious.Length != xt.Length)
        {
            throw new ArgumentException("x_t, x̂0 and x_prev must have the same length.");
        }
        var alphaBar = Schedule.AlphaBar(t);
        var alphaBarPrevious = AlphaBarOrClean(previous);
        var sigma = Sigma(t, previous);
        if (sigma > 0 && noise.Length != xt.Length)
        {
            throw new ArgumentException("A stochastic step (η > 0) needs one noise value per element.", nameof(noise));
        }
        var signal = (float)Math.Sqrt(alphaBar);
        var inverseNoiseScale = (float)(1 / Math.Sqrt(1 - alphaBar));
        var signalPrevious = (float)Math.Sqrt(alphaBarPrevious);
        var direction = (float)Math.Sqrt(Math.Max(0, 1 - alphaBarPrevious - (sigma * sigma)));
        var s = (float)sigma;
        for (var i = 0; i < xt.Length; i++)
        {
            var epsilon = (xt[i] - (signal * predictedX0[i])) * inverseNoiseScale;
            var value = (signalPrevious * predictedX0[i]) + (direction * epsilon);
            xPrevious[i] = s > 0 ? value + (s * noise[i]) : value;
        }
    }

    private double AlphaBarOrClean(int t) => t == Clean ? 1.0 : Schedule.AlphaBar(t);
}
