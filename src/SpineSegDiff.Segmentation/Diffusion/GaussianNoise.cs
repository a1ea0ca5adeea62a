namespace SpineSegDiff.Segmentation.Diffusion;

/// <summary>
/// Standard normal samples from a caller-owned <see cref="Random"/> (Box-Muller, both outputs used), so that a job
/// seeded with the same value draws the same noise on every machine and every run.
/// </summary>
public static class GaussianNoise
{
    public static void Fill(Random random, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        var i = 0;
        while (i < destination.Length)
        {
            // 1 - NextDouble() lies in (0, 1], so the logarithm is finite.
            var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble()));
            var angle = 2.0 * Math.PI * random.NextDouble();
            destination[i++] = (float)(radius * Math.Cos(angle));
            if (i < destination.Length)
            {
                destination[i++] = (float)(radius * Math.Sin(angle));
            }
        }
    }
}
