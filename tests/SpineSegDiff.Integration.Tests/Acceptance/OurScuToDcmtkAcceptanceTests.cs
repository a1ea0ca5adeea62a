using System.Diagnostics;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Integration.Tests.Network;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>Our StorageScu -> dcmtk storescp, 200 instances per run. (The CLI's send is tested in SpineSegDiff.Cli.Tests.)</summary>
[Collection(AcceptanceCollection.Name)]
public sealed class OurScuToDcmtkAcceptanceTests(AcceptanceSeries series, ITestOutputHelper output)
{
    private const int TestTimeout = 180_000;

    [Theory(Timeout = TestTimeout)]
    [InlineData(FixtureTransferSyntax.ExplicitVrLittleEndian, DatasetComparison.ExplicitVrLittleEndian)]
    [InlineData(FixtureTransferSyntax.ImplicitVrLittleEndian, DatasetComparison.ImplicitVrLittleEndian)]
    public async Task Our_storage_scu_stores_200_instances_in_storescp_intact(FixtureTransferSyntax syntax, string syntaxUid)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var manifest = series.For(syntax);
        using var work = new TempDirectory("spineseg-acceptance-scu");
        await using var scp = await DcmtkStoreScp.StartAsync("ACCEPTSCP", cancellationToken: cts.Token);
        var scu = new StorageScu(
            new DicomClientOptions { CallingAeTitle = "SPINESEG", CalledAeTitle = scp.AeTitle, Host = Tools.Loopback, Port = scp.Port, DimseTimeout = TimeSpan.FromSeconds(30) },
            new TestOutputLoggerFactory(output, Microsoft.Extensions.Logging.LogLevel.Information));

        var clock = Stopwatch.StartNew();
        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), cts.Token);
        output.WriteLine($"StorageScu -> storescp: {results.Count} instances in {clock.ElapsedMilliseconds} ms");

        results.Should().HaveCount(AcceptanceSeries.Count);
        results.Where(r => !r.Succeeded).Select(r => r.ToString()).Should().BeEmpty();
        results.Select(r => r.SopInstanceUid).Should().Equal(manifest.Files.Select(f => f.SopInstanceUid));
        var received = await scp.WaitForFilesAsync(AcceptanceSeries.Count, TimeSpan.FromSeconds(20), cts.Token);
        received.Should().HaveCount(AcceptanceSeries.Count, scp.Output);
        (await PeerLog.WaitForCountAsync(() => scp.Output, "Received Store Request", AcceptanceSeries.Count, TimeSpan.FromSeconds(10), cts.Token))
            .Should().Be(AcceptanceSeries.Count, "storescp logs one line per C-STORE it received:\n{0}", scp.Output);
        foreach (var file in received)
        {
            // storescp +xa takes every syntax, so each file travels (and is stored) in its own syntax.
            DatasetComparison.MetaTransferSyntaxOf(file).Should().Be(syntaxUid, file);
        }

        var pairs = DatasetComparison.Match(manifest.Files, received);
        DatasetComparison.AssertEqualByOurReader(pairs);
        await DatasetComparison.AssertEqualByPydicomAsync(pairs, work.Path, cts.Token);
    }

    /// <summary>Control for every comparison above: the checks must report datasets that differ.</summary>
    [Fact(Timeout = TestTimeout)]
    public async Task The_dataset_comparisons_report_different_datasets()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var work = new TempDirectory("spineseg-acceptance-control");
        var files = series.Explicit.Files;
        // Neighbouring instances of one series: same attributes, different UIDs, instance numbers and pixels.
        var pairs = Enumerable.Range(0, 3).Select(i => new SentAndStored(files[i].SopInstanceUid, files[i].Path, files[i + 1].Path)).ToList();

        var ours = () => DatasetComparison.AssertEqualByOurReader(pairs);
        ours.Should().Throw<Exception>();
        var (compared, _) = await DatasetComparison.CompareAllWithPydicomAsync(pairs, work.Path, cts.Token, expectEqual: false);
        compared.Should().Be(3);
        var script = await DatasetComparison.RunCompareScriptAsync(pairs, cts.Token);
        script.Should().OnlyContain(r => r.ExitCode == 1, string.Join("\n", script));

        // ...and that they pass a dataset compared with itself.
        var same = new[] { new SentAndStored(files[0].SopInstanceUid, files[0].Path, files[0].Path) };
        DatasetComparison.AssertEqualByOurReader(same);
        (await DatasetComparison.CompareAllWithPydicomAsync(same, work.Path, cts.Token)).Compared.Should().Be(1);
        (await DatasetComparison.RunCompareScriptAsync(same, cts.Token)).Should().OnlyContain(r => r.ExitCode == 0);
    }
}
