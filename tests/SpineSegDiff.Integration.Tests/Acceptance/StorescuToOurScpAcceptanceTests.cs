using System.Diagnostics;
using System.Text.RegularExpressions;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>dcmtk storescu -> our Storage SCP over the InstanceStore, 200 instances per run.</summary>
[Collection(AcceptanceCollection.Name)]
public sealed partial class StorescuToOurScpAcceptanceTests(AcceptanceSeries series, ITestOutputHelper output)
{
    private const int TestTimeout = 180_000;

    /// <summary>
    /// -xi proposes Implicit VR Little Endian only; -xe proposes Explicit VR Little Endian first (our node prefers it).
    /// -R proposes only the SOP class and transfer syntax the files need. Each variant sends the series written in
    /// the syntax it proposes, so storescu sends the pydicom bytes as they are.
    /// </summary>
    [Theory(Timeout = TestTimeout)]
    [InlineData(false, "-xi")]
    [InlineData(false, "-xe")]
    [InlineData(true, "-xi")]
    [InlineData(true, "-xe")]
    public async Task Storescu_stores_200_instances_that_arrive_intact(bool requiredContextsOnly, string proposal)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var implicitProposal = proposal == "-xi";
        var manifest = series.For(implicitProposal ? FixtureTransferSyntax.ImplicitVrLittleEndian : FixtureTransferSyntax.ExplicitVrLittleEndian);
        var (expectedUid, expectedDcmtkName) = implicitProposal
            ? (DatasetComparison.ImplicitVrLittleEndian, "Little Endian Implicit")
            : (DatasetComparison.ExplicitVrLittleEndian, "Little Endian Explicit");
        using var work = new TempDirectory("spineseg-acceptance-storescu");
        await using var node = await OurNode.StartAsync(output);
        string[] arguments = requiredContextsOnly ? ["-v", "-R", proposal] : ["-v", proposal];

        var clock = Stopwatch.StartNew();
        var result = await Tools.StorescuAsync(
            node.Port, OurNode.AeTitle, manifest.Files.Select(f => f.Path), callingAeTitle: "ACCEPTSTORESCU",
            extraArguments: arguments, cancellationToken: cts.Token, timeout: TimeSpan.FromSeconds(120));
        output.WriteLine($"storescu {string.Join(' ', arguments)}: {manifest.Files.Count} instances in {clock.ElapsedMilliseconds} ms");

        result.ExitCode.Should().Be(0, result.ToString());
        PeerLog.Count(result.Output, "Received Store Response (Success)").Should().Be(AcceptanceSeries.Count, result.ToString());
        // What was negotiated, as storescu saw it: one "Converting transfer syntax: <file> -> <network>" line per file.
        var networkSyntaxes = ConvertingLine().Matches(result.Output).Select(m => m.Groups["network"].Value.Trim()).ToList();
        networkSyntaxes.Should().HaveCount(AcceptanceSeries.Count, result.ToString());
        networkSyntaxes.Should().OnlyContain(s => s == expectedDcmtkName, result.ToString());

        var association = await node.WaitForAssociationAsync("ACCEPTSTORESCU", TimeSpan.FromSeconds(15));
        association.Reason.Should().Be(AssociationEndReason.Released);
        association.InstancesStored.Should().Be(AcceptanceSeries.Count);
        association.InstancesFailed.Should().Be(0);
        node.EndedAssociations.Should().ContainSingle("storescu sends everything on one association");

        var stored = node.StoredFiles();
        stored.Should().HaveCount(AcceptanceSeries.Count);
        node.IncomingLeftovers().Should().BeEmpty("no temporary file may remain in the store's .incoming");
        foreach (var file in stored)
        {
            DatasetComparison.MetaTransferSyntaxOf(file).Should().Be(expectedUid, file);
            DatasetComparison.MetaSopInstanceUidOf(file).Should().Be(DatasetComparison.SopInstanceUidOf(file), file);
        }

        var pairs = DatasetComparison.Match(manifest.Files, stored);
        DatasetComparison.AssertEqualByOurReader(pairs);
        await DatasetComparison.AssertEqualByPydicomAsync(pairs, work.Path, cts.Token);
        output.WriteLine($"verified in {clock.ElapsedMilliseconds} ms in all");
    }

    [GeneratedRegex(@"Converting transfer syntax: (?<file>[^\r\n]*?) -> (?<network>[^\r\n]*)")]
    private static partial Regex ConvertingLine();
}
