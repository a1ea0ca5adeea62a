using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SpineSegDiff.Gateway.Export;
using SpineSegDiff.Gateway.Tests.Support;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Gateway.Tests;

/// <summary>The exporter as a host runs it: AddExport, start, an enqueue wakes the dispatcher, stop.</summary>
public sealed class ExportHostingTests : IDisposable
{
    private readonly TempDirectory _temp = new("spineseg-exporthost");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_host_delivers_what_is_enqueued_and_stops_cleanly()
    {
        var outbox = _temp.Combine("outbox");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Export:QueueDirectory"] = _temp.Combine("queue"),
            ["Export:PollingInterval"] = "00:01:00",
            ["Export:Destinations:0:Name"] = "local",
            ["Export:Destinations:0:Kind"] = "folder",
            ["Export:Destinations:0:Path"] = outbox,
        }).Build();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddExport(configuration);
        using var host = builder.Build();
        await host.StartAsync();

        var queue = host.Services.GetRequiredService<ExportQueue>();
        var item = await queue.EnqueueAsync("local", "study-h", [TestDicomFiles.Create(_temp.Combine("results"), "seg.dcm")], CancellationToken.None);
        var target = Path.Combine(outbox, item.Id, "0000.dcm");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (queue.PendingCount > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        queue.PendingCount.Should().Be(0, "the enqueue woke the dispatcher well before its one-minute poll");
        File.Exists(target).Should().BeTrue();
        await host.StopAsync();
    }
}
