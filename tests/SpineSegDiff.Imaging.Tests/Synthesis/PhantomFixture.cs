using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Imaging.Tests.Support;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Imaging.Tests.Synthesis;

/// <summary>Phantom studies written once per test run: the default case (ASL, oblique) and an RAI case.</summary>
public sealed class PhantomFixture : IDisposable
{
    private readonly TempDirectory _directory = new("spineseg-phantom");

    public PhantomFixture()
    {
        var catalog = SpiderData.Catalog;
        var asl = SyntheticStudyWriter.DefaultCase(catalog);
        Asl = SyntheticStudyWriter.Write(catalog, asl, MrContrast.T2, 42, _directory.Combine("asl"));
        Rai = SyntheticStudyWriter.Write(catalog, catalog.Case("104_t1"), MrContrast.T1, 42, _directory.Combine("rai"));
    }

    public SyntheticStudy Asl { get; }

    public SyntheticStudy Rai { get; }

    public string Root => _directory.Path;

    public void Dispose() => _directory.Dispose();
}

[CollectionDefinition(Name)]
public sealed class PhantomCollection : ICollectionFixture<PhantomFixture>
{
    public const string Name = "phantom studies";
}
