using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Integration.Tests.Network;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>
/// Our DicomServer (Storage + Verification SCP) on 127.0.0.1 and a free port, over a real <see cref="InstanceStore"/>
/// in a temp folder, recording every association that ends.
/// </summary>
internal sealed class OurNode : IAsyncDisposable
{
    public const string AeTitle = "SEGNODE";

    private readonly TempDirectory _directory;
    private readonly ConcurrentQueue<AssociationEndedEventArgs> _ended = new();

    private OurNode(TempDirectory directory, InstanceStore store, DicomServer server)
    {
        _directory = directory;
        Store = store;
        Server = server;
        server.AssociationEnded += (_, e) => _ended.Enqueue(e);
    }

    public InstanceStore Store { get; }

    public DicomServer Server { get; }

    public int Port => Server.LocalEndPoint.Port;

    public IReadOnlyList<AssociationEndedEventArgs> EndedAssociations => _ended.ToList();

    public static async Task<OurNode> StartAsync(ITestOutputHelper output)
    {
        var directory = new TempDirectory("spineseg-acceptance-node");
        try
        {
            // Information, not Debug: 200 "instance stored" lines per test would drown what matters.
            var loggers = new TestOutputLoggerFactory(output, LogLevel.Information);
            var store = new InstanceStore(new InstanceStoreOptions { RootDirectory = directory.Combine("store") }, loggers.CreateLogger<InstanceStore>());
            var server = new DicomServer(TestServers.Options(o => o.AeTitle = AeTitle), store, loggers);
            await server.StartAsync(CancellationToken.None);
            server.LocalEndPoint.Address.ToString().Should().Be(Tools.Loopback);
            return new OurNode(directory, store, server);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Waits (bounded) for an association from <paramref name="callingAeTitle"/> to end, and returns it.</summary>
    public async Task<AssociationEndedEventArgs> WaitForAssociationAsync(string callingAeTitle, TimeSpan timeout)
    {
        var found = await TestServers.EventuallyAsync(() => _ended.Any(e => e.CallingAeTitle == callingAeTitle), timeout);
        found.Should().BeTrue($"an association from {callingAeTitle} should have ended within {timeout.TotalSeconds:F0} s; saw [{string.Join(", ", _ended.Select(e => e.CallingAeTitle))}]");
        return _ended.First(e => e.CallingAeTitle == callingAeTitle);
    }

    /// <summary>Stored instance files, and the store's temporary folder (must be empty when no transfer runs).</summary>
    public IReadOnlyList<string> StoredFiles() => Store.EnumerateInstanceFiles().Order(StringComparer.Ordinal).ToList();

    public IReadOnlyList<string> IncomingLeftovers() => Directory.EnumerateFileSystemEntries(Store.IncomingDirectory).ToList();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.DisposeAsync();
        }
        finally
        {
            _directory.Dispose();
        }
    }
}
