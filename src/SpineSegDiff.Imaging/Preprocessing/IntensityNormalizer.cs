using System.Buffers;

namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>
/// The paper's intensity normalisation: the 98th percentile maps to 1 (the paper's 255, scaled to the network's
/// range), everything clipped to [0, 1]. Robust to a few very bright pixels (fat, flow artefacts) where max
/// normalisation is not.
/// </summary>
public static class IntensityNormalizer
{
    public const double DefaultPercentile = 0.98;

    private const int Bins = 4096;

    /// <summary>
    /// The q-quantile with linear interpolation between order statistics (numpy's default), computed with one
    /// histogram pass and an exact look at only the values in the bins that hold the two order statistics.
    /// </summary>
    public static float Percentile(ReadOnlySpan<float> values, double q = DefaultPercentile)
    {
        if (values.IsEmpty)
        {
            throw new ArgumentException("No values.", nameof(values));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(q);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1.0);
        var min = float.PositiveInfinity;
        var max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (float.IsNaN(v))
            {
                throw new ArgumentException("NaN in image.", nameof(values));
            }
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        if (max <= min)
        {
            return min;
        }
        var position = q * (values.Length - 1);
        var lowRank = (long)Math.Floor(position);
        var fraction = position - lowRank;
        var highRank = Math.Min(lowRank + 1, values.Length - 1);

        var counts = ArrayPool<int>.Shared.Rent(Bins);
        try
        {
            Array.Clear(counts, 0, Bins);
            var scale = (Bins - 1) / ((double)max - min);
            foreach (var v in values)
            {
                counts[(int)((v - min) * scale)]++;
            }
            var low = OrderStatistic(values, counts, min, scale, lowRank);
            var high = highRank == lowRank ? low : OrderStatistic(values, counts, min, scale, highRank);
            return (float)(low + fraction * (high - low));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>Writes value / p98 clipped to [0, 1]; returns the p98 used (0 for a blank image, which stays 0).</summary>
    public static float Normalize(ReadOnlySpan<float> source, Span<float> destination, double q = DefaultPercentile)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("Destination too small.", nameof(destination));
        }
        var reference = Percentile(source, q);
        if (!(reference > 0))
        {
            destination[..source.Length].Clear();
            return 0;
        }
        var inverse = 1f / reference;
        for (var n = 0; n < source.Length; n++)
        {
            destination[n] = Math.Clamp(source[n] * inverse, 0f, 1f);
        }
        return reference;
    }

    private static double OrderStatistic(ReadOnlySpan<float> values, int[] counts, float min, double scale, long rank)
    {
        long below = 0;
        var bin = 0;
        while (below + counts[bin] <= rank)
        {
            below += counts[bin];
            bin++;
        }
        var inBin = counts[bin];
        var members = ArrayPool<float>.Shared.Rent(inBin);
        try
        {
            var n = 0;
            foreach (var v in values)
            {
                if ((int)((v - min) * scale) == bin)
                {
                    members[n++] = v;
                }
            }
            var span = members.AsSpan(0, n);
            span.Sort();
            return span[(int)(rank - below)];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(members);
        }
    }
}
