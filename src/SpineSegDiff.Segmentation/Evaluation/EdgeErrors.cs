namespace SpineSegDiff.Segmentation.Evaluation;

/// <summary>
/// One class's misclassified pixels, split into those on the true structure's edge (a pixel whose 8-neighbourhood
/// crosses the true boundary: the prediction's boundary is off by one pixel there) and those farther away (missed or
/// invented parts of a structure). Tells whether a Dice gap is boundary placement or gross mistakes.
/// </summary>
public sealed class EdgeErrors
{
    public long OnEdge { get; private set; }

    public long Away { get; private set; }

    /// <summary>Of <see cref="OnEdge"/>, the pixels predicted as the class outside it (the structure drawn too large there).</summary>
    public long OnEdgeTooLarge { get; private set; }

    public long Total => OnEdge + Away;

    public double EdgeShare => Total == 0 ? 0 : (double)OnEdge / Total;

    public void Add(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth, byte label, int width)
    {
        if (predicted.Length != truth.Length || width < 1 || truth.Length % width != 0)
        {
            throw new ArgumentException("Predicted and true label maps must be the same size, a whole number of rows of the given width.");
        }
        var height = truth.Length / width;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var inTruth = truth[(y * width) + x] == label;
                if ((predicted[(y * width) + x] == label) == inTruth)
                {
                    continue;
                }
                if (CrossesBoundary(truth, label, width, height, x, y, inTruth))
                {
                    OnEdge++;
                    OnEdgeTooLarge += inTruth ? 0 : 1;
                }
                else
                {
                    Away++;
                }
            }
        }
    }

    private static bool CrossesBoundary(ReadOnlySpan<byte> truth, byte label, int width, int height, int x, int y, bool inTruth)
    {
        for (var dy = -1; dy <= 1; dy++)
        {
            for (var dx = -1; dx <= 1; dx++)
            {
                var (nx, ny) = (x + dx, y + dy);
                if (nx >= 0 && ny >= 0 && nx < width && ny < height && (truth[(ny * width) + nx] == label) != inTruth)
                {
                    return true;
                }
            }
        }
        return false;
    }
}
