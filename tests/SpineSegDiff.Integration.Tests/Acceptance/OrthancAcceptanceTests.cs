using System.Diagnostics;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Integration.Tests.Network;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>C-STORE between our node and Orthanc in both directions, checked through Orthanc's REST API.</summary>
[Collection(AcceptanceCollection.Name)]
public sealed class OrthancAcceptanceTests(AcceptanceSeries series, ITestOutputHelper output)
{
    private const int TestTimeout = 180_000;

    [Fact(Timeout = TestTimeout)]
    public async Task Our_storage_scu_stores_200_instances_in_orthanc_intact()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var manifest = series.Explicit;
        using var work = new TempDirectory("spineseg-acceptance-orthanc");
        await using var orthanc = await OrthancServer.StartAsync(new OrthancOptions { EnableDicomWeb = false, AeTitle = "ACCEPTORTHANC" }, cts.Token);
        var scu = new StorageScu(
            new DicomClientOptions { CallingAeTitle = "SPINESEG", CalledAeTitle = orthanc.AeTitle, Host = Tools.Loopback, Port = orthanc.DicomPort, DimseTimeout = TimeSpan.FromSeconds(30) },
            new TestOutputLoggerFactory(output, Microsoft.Extensions.Logging.LogLevel.Information));

        var clock = Stopwatch.StartNew();
        var results = await scu.SendAsync(manifest.Files.Select(f => f.Path), cts.Token);
        output.WriteLine($"StorageScu -> Orthanc: {results.Count} instances in {clock.ElapsedMilliseconds} ms");

        results.Should().HaveCount(AcceptanceSeries.Count);
        results.Where(r => !r.Succeeded).Select(r => r.ToString()).Should().BeEmpty();

        // Count, twice: Orthanc's statistics and its list of instances. (Orthanc indexes before it answers a C-STORE;
        // the bounded wait only keeps a slow index from reading as a lost instance.)
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await orthanc.CountInstancesAsync(cts.Token) < AcceptanceSeries.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cts.Token);
        }

        (await orthanc.CountInstancesAsync(cts.Token)).Should().Be(AcceptanceSeries.Count);
        var ids = await orthanc.ListInstancesAsync(cts.Token);
        ids.Should().HaveCount(AcceptanceSeries.Count).And.OnlyHaveUniqueItems();

        // The set of SOP Instance UIDs Orthanc indexed must be exactly the sent set.
        var expanded = await orthanc.GetJsonAsync("instances?expand", cts.Token);
        var uidsById = expanded.EnumerateArray().ToDictionary(
            i => i.GetProperty("ID").GetString()!,
            i => i.GetProperty("MainDicomTags").GetProperty("SOPInstanceUID").GetString()!);
        uidsById.Keys.Should().BeEquivalentTo(ids);
        uidsById.Values.Should().BeEquivalentTo(manifest.Files.Select(f => f.SopInstanceUid));

        // Every stored file, as Orthanc serves it, against the sent one.
        var downloaded = new List<string>();
        foreach (var id in ids)
        {
            var path = Path.Combine(work.Path, id + ".dcm");
            await File.WriteAllBytesAsync(path, await orthanc.GetInstanceFileAsync(id, cts.Token), cts.Token);
            DatasetComparison.SopInstanceUidOf(path).Should().Be(uidsById[id]);
            DatasetComparison.MetaTransferSyntaxOf(path).Should().Be(DatasetComparison.ExplicitVrLittleEndian, "Orthanc keeps the syntax it received");
            downloaded.Add(path);
        }

        var pairs = DatasetComparison.Match(manifest.Files, downloaded);
        DatasetComparison.AssertEqualByOurReader(pairs);
        await DatasetComparison.AssertEqualByPydicomAsync(pairs, work.Path, cts.Token);
        output.WriteLine($"verified in {clock.ElapsedMilliseconds} ms in all");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Orthanc_stores_uploaded_instances_to_our_scp_intact()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var work = new TempDirectory("spineseg-acceptance-orthanc");
        // A few of each series: Orthanc sends each in the syntax it was uploaded in, and our node accepts both.
        var sent = series.Explicit.Files.Take(3).Concat(series.Implicit.Files.Take(3)).ToList();
        await using var node = await OurNode.StartAsync(output);
        await using var orthanc = await OrthancServer.StartAsync(
            new OrthancOptions
            {
                EnableDicomWeb = false,
                Modalities = new Dictionary<string, OrthancModality> { ["segnode"] = new(OurNode.AeTitle, node.Port) },
            },
            cts.Token);
        var ids = new List<string>();
        foreach (var file in sent)
        {
            var uploaded = await orthanc.UploadInstanceAsync(await File.ReadAllBytesAsync(file.Path, cts.Token), cts.Token);
            uploaded.GetProperty("Status").GetString().Should().Be("Success");
            ids.Add(uploaded.GetProperty("ID").GetString()!);
        }

        (await orthanc.CountInstancesAsync(cts.Token)).Should().Be(sent.Count);
        node.StoredFiles().Should().BeEmpty("nothing has been sent to our node yet");

        await orthanc.StoreToModalityAsync("segnode", ids, cts.Token);

        var association = await node.WaitForAssociationAsync(orthanc.AeTitle, TimeSpan.FromSeconds(15));
        association.Reason.Should().Be(AssociationEndReason.Released);
        association.InstancesStored.Should().Be(sent.Count);
        var stored = node.StoredFiles();
        stored.Should().HaveCount(sent.Count);
        node.IncomingLeftovers().Should().BeEmpty();
        var pairs = DatasetComparison.Match(sent, stored);
        foreach (var pair in pairs)
        {
            var source = sent.Single(f => f.SopInstanceUid == pair.SopInstanceUid);
            DatasetComparison.MetaTransferSyntaxOf(pair.Stored).Should().Be(source.TransferSyntaxUid, "our node accepts the syntax Orthanc holds the instance in");
        }

        DatasetComparison.AssertEqualByOurReader(pairs);
        await DatasetComparison.AssertEqualByPydicomAsync(pairs, work.Path, cts.Token);
        // All pairs also through the script itself (there are only a few).
        (await DatasetComparison.RunCompareScriptAsync(pairs, cts.Token)).Should().OnlyContain(r => r.ExitCode == 0);
    }
}
