namespace SpineSegDiff.Segmentation.Evaluation;

/// <summary>
/// Dice of each ground-truth disc separately, so discs can be grouped by their radiological grading (the paper's
/// Figure 2). A disc is compared with the predicted disc pixels inside its bounding box widened by a margin; discs
/// lie a vertebral body apart (20-30 mm), so a 5 mm margin catches a prediction that overshoots without reaching the
/// next disc.
/// </summary>
public static class PerDiscDice
{
    public const int DefaultMargin = 5;
    private const byte Disc = 3;

    /// <summary>(rank from the bottom, Dice) for every disc rank present in <paramref name="discRanks"/>.</summary>
    public static IReadOnlyList<(int Rank, double Dice)> Compute(
        ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> discRanks, int width, int height, int margin = DefaultMargin)
    {
        if (predicted.Length != width * height || discRanks.Length != width * height)
        {
            throw new ArgumentException("Prediction and disc ranks must cover width x height pixels.");
        }
        var boxes = new Dictionary<int, (int X0, int Y0, int X1, int Y1, long Size)>();
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var rank = discRanks[(y * width) + x];
                if (rank == 0)
                {
                    continue;
                }
                boxes[rank] = boxes.TryGetValue(rank, out var b)
                    ? (Math.Min(b.X0, x), Math.Min(b.Y0, y), Math.Max(b.X1, x), Math.Max(b.Y1, y), b.Size + 1)
                    : (x, y, x, y, 1);
            }
        }

        var results = new List<(int, double)>();
        foreach (var (rank, box) in boxes.OrderBy(b => b.Key))
        {
            long intersection = 0, predictedSize = 0;
            for (var y = Math.Max(0, box.Y0 - margin); y <= Math.Min(height - 1, box.Y1 + margin); y++)
            {
                for (var x = Math.Max(0, box.X0 - margin); x <= Math.Min(width - 1, box.X1 + margin); x++)
                {
                    var i = (y * width) + x;
                    // Another disc's own pixels are that disc's business, not this one's.
                    if (discRanks[i] != 0 && discRanks[i] != rank)
                    {
                        continue;
                    }
                    if (predicted[i] == Disc)
                    {
                        predictedSize++;
                        if (discRanks[i] == rank)
                        {
                            intersection++;
                        }
                    }
                }
            }
            results.Add((rank, 2.0 * intersection / (predictedSize + box.Size)));
        }
        return results;
    }
}
