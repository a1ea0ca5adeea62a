using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Results.Tests.Support;

/// <summary>The source series every SEG test writes against, built once per test run.</summary>
public sealed class SeriesFixture : IDisposable
{
    private readonly TempDirectory _directory = new("spineseg-results");

    public SeriesFixture()
    {
        Odd = TinySeriesBuilder.Write(_directory.Combine("odd"), 321, 317, 5);
        var catalog = SpiderCatalog.Open();
        var study = SyntheticStudyWriter.Write(catalog, SyntheticStudyWriter.DefaultCase(catalog), MrContrast.T2, 42, _directory.Combine("phantom"));
        Phantom = new SourceSeries($"phantom-{study.CaseId}-{study.Rows}x{study.Columns}x{study.Slices}", study.Files, MetaImageReader.Read<byte>(study.LabelPath));
    }

    /// <summary>321 x 317: Rows x Columns not a multiple of 8, so frames start mid-byte.</summary>
    public SourceSeries Odd { get; }

    /// <summary>The SPIDER phantom (multiple of 8, oblique orientation) with its ground truth.</summary>
    public SourceSeries Phantom { get; }

    public string Root => _directory.Path;

    public SourceSeries ByName(string which) => which switch
    {
        "odd" => Odd,
        "phantom" => Phantom,
        _ => throw new ArgumentOutOfRangeException(nameof(which), which, "odd or phantom"),
    };

    public void Dispose() => _directory.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SeriesCollection : ICollectionFixture<SeriesFixture>
{
    public const string Name = "source series";
}
