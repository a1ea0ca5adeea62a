namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>
/// SplitMix64: a tiny, fast, well-mixed generator for per-pixel noise, where System.Random's virtual calls and
/// Box-Muller's transcendental functions would dominate the render time. Always seeded from the sample's own
/// <see cref="Random"/>, so determinism by seed is preserved.
/// </summary>
internal struct FastRandom
{
    private ulong _state;

    public FastRandom(ulong seed) => _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Approximately standard normal: Irwin-Hall sum of four 16-bit uniforms, rescaled to unit variance. Tails stop
    /// at ±3.46 sigma, which is irrelevant for image noise and costs one 64-bit draw per sample.
    /// </summary>
    public float NextGaussian()
    {
        var r = NextUInt64();
        var sum = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48);
        const float scale = 1.7320508f / 65536f; // sqrt(12 / 4) per unit
        return (sum - 2 * 65535f) * scale;
    }
}
