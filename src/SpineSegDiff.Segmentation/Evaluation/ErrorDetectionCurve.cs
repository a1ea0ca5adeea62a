namespace SpineSegDiff.Segmentation.Evaluation;

/// <summary>
/// How well an uncertainty map finds the pixels a segmentation got wrong: the area under the ROC curve of
/// "uncertainty ≥ threshold" as a detector of misclassified pixels. Values in [0, 1] are binned finely (4096 bins), so
/// millions of pixels need no sort; pixels within a bin count as ties (half credit), as the Mann-Whitney U does.
/// </summary>
public sealed class ErrorDetectionCurve
{
    private const int Bins = 4096;
    private readonly long[] _errors = new long[Bins];
    private readonly long[] _correct = new long[Bins];

    public long ErrorCount => _errors.Sum();

    public long CorrectCount => _correct.Sum();

    /// <summary>Adds the pixels selected by <paramref name="include"/> (all when empty).</summary>
    public void Add(ReadOnlySpan<float> uncertainty, ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth, ReadOnlySpan<bool> include = default)
    {
        if (predicted.Length != uncertainty.Length || truth.Length != uncertainty.Length || (!include.IsEmpty && include.Length != uncertainty.Length))
        {
            throw new ArgumentException("Uncertainty, prediction, truth (and selection) must have the same size.");
        }
        for (var i = 0; i < uncertainty.Length; i++)
        {
            if (!include.IsEmpty && !include[i])
            {
                continue;
            }
            var bin = Math.Clamp((int)(uncertainty[i] * Bins), 0, Bins - 1);
            if (predicted[i] != truth[i])
            {
                _errors[bin]++;
            }
            else
            {
                _correct[bin]++;
            }
        }
    }

    /// <summary>P(uncertainty of an error &gt; that of a correct pixel) + ½ P(tie); NaN without both kinds of pixel.</summary>
    public double Auroc()
    {
        double errors = ErrorCount, correct = CorrectCount;
        if (errors == 0 || correct == 0)
        {
            return double.NaN;
        }
        // Sweep bins from low to high uncertainty, counting correct pixels below each error bin.
        double below = 0, area = 0;
        for (var b = 0; b < Bins; b++)
        {
            area += _errors[b] * (below + (0.5 * _correct[b]));
            below += _correct[b];
        }
        return area / (errors * correct);
    }
}
