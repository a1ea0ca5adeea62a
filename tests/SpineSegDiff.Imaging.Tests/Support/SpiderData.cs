using SpineSegDiff.Imaging.Spider;

namespace SpineSegDiff.Imaging.Tests.Support;

/// <summary>The repository's SPIDER data, opened once for the whole test run.</summary>
public static class SpiderData
{
    private static readonly Lazy<SpiderCatalog> Shared = new(() => SpiderCatalog.Open());

    public static SpiderCatalog Catalog => Shared.Value;

    public static string MaskPath(string caseId) => Catalog.Case(caseId).MaskPath;
}

public static class Dice
{
    /// <summary>Dice of one class between two label maps; 1 when the class is absent from both.</summary>
    public static double Of(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, byte label)
    {
        long both = 0, sum = 0;
        for (var n = 0; n < a.Length; n++)
        {
            var x = a[n] == label;
            var y = b[n] == label;
            if (x && y)
            {
                both++;
            }
            sum += (x ? 1 : 0) + (y ? 1 : 0);
        }
        return sum == 0 ? 1 : 2.0 * both / sum;
    }
}
