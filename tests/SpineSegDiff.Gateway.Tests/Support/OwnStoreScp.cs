using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Gateway.Tests.Support;

/// <summary>
/// Our own Storage SCP (SpineSegDiff.Dicom's DicomServer over a real InstanceStore) as a PACS that can be told to refuse:
/// a SOP class left out of its configuration, calling AE titles it does not know, or a status per C-STORE. It counts
/// associations and C-STOREs, which is how the tests see how often the exporter really tried.
/// </summary>
internal sealed class OwnStoreScp : IAsyncDisposable
{
    private readonly DicomServer _server;
    private readonly TempDirectory _directory;
    private readonly ConcurrentQueue<AssociationEndedEventArgs> _associations = new();

    private OwnStoreScp(DicomServer server, TempDirectory directory, ScriptedSink sink)
    {
        _server = server;
        _directory = directory;
        Sink = sink;
        _server.AssociationEnded += (_, e) => _associations.Enqueue(e);
    }

    public int Port => _server.LocalEndPoint.Port;

    public ScriptedSink Sink { get; }

    /// <summary>Accepted associations that have ended.</summary>
    public int Associations => _associations.Count;

    public IReadOnlyList<ReceivedInstance> Instances => [.. _associations.SelectMany(a => a.Instances)];

    public static async Task<OwnStoreScp> StartAsync(
        IEnumerable<string>? sopClasses = null,
        IEnumerable<string>? allowedCallingAeTitles = null,
        Func<int, ushort?>? statusForStore = null,
        int? port = null)
    {
        var directory = new TempDirectory("spineseg-ownscp");
        var store = new InstanceStore(new InstanceStoreOptions { RootDirectory = directory.Combine("store"), FlushToDisk = false }, NullLogger<InstanceStore>.Instance);
        var sink = new ScriptedSink(store, statusForStore);
        var options = new DicomServerOptions
        {
            AeTitle = "PACS",
            Port = port ?? FreePort.Get(),
            BindAddress = Tools.Loopback,
            AcceptedSopClasses = [.. sopClasses ?? DicomServerOptions.DefaultSopClasses],
            AllowedCallingAeTitles = [.. allowedCallingAeTitles ?? []],
        };
        var server = new DicomServer(options, sink, NullLoggerFactory.Instance);
        await server.StartAsync(CancellationToken.None);
        return new OwnStoreScp(server, directory, sink);
    }

    /// <summary>Waits (bounded) until <paramref name="count"/> associations have ended; the event fires after the release.</summary>
    public async Task WaitForAssociationsAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Associations < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    /// <summary>Stores into the instance store unless the script answers a status for this C-STORE (numbered from 1).</summary>
    internal sealed class ScriptedSink(InstanceStore store, Func<int, ushort?>? statusForStore) : IStorageSink
    {
        private int _stores;

        public int Stores => Volatile.Read(ref _stores);

        public async ValueTask<IStoreTransaction> BeginAsync(StoreRequestContext context, CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref _stores);
            var inner = await store.BeginAsync(context, cancellationToken);
            return statusForStore?.Invoke(number) is { } status ? new Refusing(inner, status) : inner;
        }

        private sealed class Refusing(IStoreTransaction inner, ushort status) : IStoreTransaction
        {
            public ValueTask WriteAsync(ReadOnlyMemory<byte> datasetBytes, CancellationToken cancellationToken) => ValueTask.CompletedTask;

            public ValueTask<StoreOutcome> CommitAsync(CancellationToken cancellationToken) => ValueTask.FromResult(new StoreOutcome(status, "Refused by the test script"));

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
