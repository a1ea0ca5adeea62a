namespace SpineSegDiff.Segmentation.Training;

/// <summary>Dice overlap per class of label maps in the project convention (0 background, 1 canal, 2 vertebra, 3 disc).</summary>
public static class DiceScore
{
    public const int ClassCount = 3;

    /// <summary>Accumulates intersections and sizes over many slices, so the score is pooled, not averaged per slice.</summary>
    public sealed class Accumulator
    {
        private readonly long[] _intersection = new long[ClassCount];
        private readonly long[] _predicted = new long[ClassCount];
        private readonly long[] _truth = new long[ClassCount];

        public void Add(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth)
        {
            if (predicted.Length != truth.Length)
            {
                throw new ArgumentException("Prediction and ground truth differ in size.");
            }
            for (var i = 0; i < predicted.Length; i++)
            {
                int p = predicted[i], g = truth[i];
                if (p is >= 1 and <= ClassCount)
                {
                    _predicted[p - 1]++;
                }
                if (g is >= 1 and <= ClassCount)
                {
                    _truth[g - 1]++;
                    if (p == g)
                    {
                        _intersection[g - 1]++;
                    }
                }
            }
        }

        /// <summary>Dice per class (index 0 canal, 1 vertebra, 2 disc); 1 when a class is absent from both.</summary>
        public double[] Scores()
        {
            var scores = new double[ClassCount];
            for (var c = 0; c < ClassCount; c++)
            {
                var denominator = _predicted[c] + _truth[c];
                scores[c] = denominator == 0 ? 1.0 : 2.0 * _intersection[c] / denominator;
            }
            return scores;
        }
    }

    public static double[] Compute(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth)
    {
        var accumulator = new Accumulator();
        accumulator.Add(predicted, truth);
        return accumulator.Scores();
    }
}
