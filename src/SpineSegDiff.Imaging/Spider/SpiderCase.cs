namespace SpineSegDiff.Imaging.Spider;

/// <summary>The MRI sequence a SPIDER mask was drawn on.</summary>
public enum SpiderSeriesKind
{
    T1,
    T2,
    T2Space,
}

/// <summary>One SPIDER label volume: <c>Id</c> is the file stem ("104_t1"), also the key of overview.csv.</summary>
public sealed record SpiderCase(string Id, int Patient, SpiderSeriesKind Kind, string MaskPath)
{
    public static string KindName(SpiderSeriesKind kind) => kind switch
    {
        SpiderSeriesKind.T1 => "t1",
        SpiderSeriesKind.T2 => "t2",
        SpiderSeriesKind.T2Space => "t2_SPACE",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Parses "104_t1", "110_t2_SPACE"; null for anything else.</summary>
    public static SpiderCase? TryParse(string maskPath)
    {
        ArgumentNullException.ThrowIfNull(maskPath);
        var id = Path.GetFileNameWithoutExtension(maskPath);
        var underscore = id.IndexOf('_', StringComparison.Ordinal);
        if (underscore <= 0 || !int.TryParse(id.AsSpan(0, underscore), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var patient))
        {
            return null;
        }
        SpiderSeriesKind? kind = id[(underscore + 1)..] switch
        {
            "t1" => SpiderSeriesKind.T1,
            "t2" => SpiderSeriesKind.T2,
            "t2_SPACE" => SpiderSeriesKind.T2Space,
            _ => null,
        };
        return kind is null ? null : new SpiderCase(id, patient, kind.Value, maskPath);
    }

    public override string ToString() => Id;
}
