using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>
/// The acceptance tests run one after another (they start real peers and move 200-instance series; on a small CI
/// machine running them side by side only makes every one of them slower) and share the generated series.
/// </summary>
[CollectionDefinition(Name)]
public sealed class AcceptanceCollection : ICollectionFixture<AcceptanceSeries>
{
    public const string Name = "Acceptance";
}

/// <summary>
/// Two pydicom-written MR series of <see cref="Count"/> small instances, generated once for the whole collection:
/// one in Explicit VR Little Endian and one in Implicit VR Little Endian (different seeds, so different UIDs).
/// </summary>
public sealed class AcceptanceSeries : IAsyncLifetime
{
    public const int Count = 200;
    public const int Rows = 64;
    public const int Columns = 64;

    private readonly TempDirectory _directory = new("spineseg-acceptance-series");

    public FixtureManifest Explicit { get; private set; } = null!;

    public FixtureManifest Implicit { get; private set; } = null!;

    public FixtureManifest For(FixtureTransferSyntax syntax) => syntax switch
    {
        FixtureTransferSyntax.ExplicitVrLittleEndian => Explicit,
        FixtureTransferSyntax.ImplicitVrLittleEndian => Implicit,
        _ => throw new ArgumentOutOfRangeException(nameof(syntax), syntax, "Only the two little-endian series are generated."),
    };

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Explicit = await FixtureGenerator.CreateSeriesAsync(
            _directory.Combine("explicit"), Count, Rows, Columns, FixtureTransferSyntax.ExplicitVrLittleEndian, seed: 101, cancellationToken: cts.Token);
        Implicit = await FixtureGenerator.CreateSeriesAsync(
            _directory.Combine("implicit"), Count, Rows, Columns, FixtureTransferSyntax.ImplicitVrLittleEndian, seed: 102, cancellationToken: cts.Token);
        foreach (var (manifest, uid) in new[] { (Explicit, DatasetComparison.ExplicitVrLittleEndian), (Implicit, DatasetComparison.ImplicitVrLittleEndian) })
        {
            manifest.Files.Should().HaveCount(Count);
            manifest.Files.Should().OnlyContain(f => f.TransferSyntaxUid == uid && File.Exists(f.Path));
            manifest.Files.Select(f => f.SopInstanceUid).Should().OnlyHaveUniqueItems();
        }

        Explicit.Files.Select(f => f.SopInstanceUid).Should().NotIntersectWith(Implicit.Files.Select(f => f.SopInstanceUid));
    }

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}
