using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Integration.Tests.Network;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>C-ECHO in both directions against dcmtk and Orthanc, each peer a real process on 127.0.0.1.</summary>
[Collection(AcceptanceCollection.Name)]
public sealed class EchoAcceptanceTests(ITestOutputHelper output)
{
    private const int TestTimeout = 120_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact(Timeout = TestTimeout)]
    public async Task Dcmtk_echoscu_gets_success_from_our_scp()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await OurNode.StartAsync(output);

        var result = await Tools.EchoscuAsync(node.Port, OurNode.AeTitle, callingAeTitle: "ACCEPTECHO", cancellationToken: cts.Token, extraArguments: ["-v"]);

        output.WriteLine(result.ToString());
        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("Received Echo Response (Success)");
        var association = await node.WaitForAssociationAsync("ACCEPTECHO", TimeSpan.FromSeconds(10));
        association.Reason.Should().Be(AssociationEndReason.Released);
        association.CalledAeTitle.Should().Be(OurNode.AeTitle);
        association.Instances.Should().BeEmpty();
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Our_echo_scu_gets_success_from_dcmtk_storescp()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var scp = await DcmtkStoreScp.StartAsync("ACCEPTSCP", cancellationToken: cts.Token);
        var echo = new EchoScu(Client("ACCEPTSCP", scp.Port), new TestOutputLoggerFactory(output));

        var status = await echo.EchoAsync(cts.Token);

        status.Should().Be(DimseStatus.Success);
        // storescp logs after answering; give it a moment to flush its output.
        (await TestServers.EventuallyAsync(() => scp.Output.Contains("Received Echo Request", StringComparison.Ordinal), TimeSpan.FromSeconds(5)))
            .Should().BeTrue(scp.Output);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Our_echo_scu_gets_success_from_orthanc()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var orthanc = await OrthancServer.StartAsync(new OrthancOptions { EnableDicomWeb = false, AeTitle = "ACCEPTORTHANC" }, cts.Token);
        var echo = new EchoScu(Client(orthanc.AeTitle, orthanc.DicomPort), new TestOutputLoggerFactory(output));

        var status = await echo.EchoAsync(cts.Token);

        status.Should().Be(DimseStatus.Success, orthanc.Output);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Orthanc_echo_to_our_scp_succeeds_through_its_configured_modality()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await OurNode.StartAsync(output);
        await using var orthanc = await OrthancServer.StartAsync(
            new OrthancOptions
            {
                EnableDicomWeb = false,
                Modalities = new Dictionary<string, OrthancModality>
                {
                    ["segnode"] = new(OurNode.AeTitle, node.Port),
                    // Control: the same node under a title it does not answer to must make Orthanc's echo fail,
                    // so a success above really is our node's answer.
                    ["wrongae"] = new("NOTSEGNODE", node.Port),
                },
            },
            cts.Token);

        var succeeded = await orthanc.EchoModalityAsync("segnode", cts.Token);

        succeeded.Should().BeTrue(orthanc.Output);
        var association = await node.WaitForAssociationAsync(orthanc.AeTitle, TimeSpan.FromSeconds(10));
        association.Reason.Should().Be(AssociationEndReason.Released);
        association.CalledAeTitle.Should().Be(OurNode.AeTitle);
        (await orthanc.EchoModalityAsync("wrongae", cts.Token)).Should().BeFalse("our node rejects an unknown called AE title");
    }

    private static DicomClientOptions Client(string calledAeTitle, int port) => new()
    {
        CallingAeTitle = "SPINESEG",
        CalledAeTitle = calledAeTitle,
        Host = Tools.Loopback,
        Port = port,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ArtimTimeout = TimeSpan.FromSeconds(20),
        DimseTimeout = TimeSpan.FromSeconds(20),
    };
}
