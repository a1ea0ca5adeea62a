using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Network;

/// <summary>Routes log messages to the xunit test output, so a failing network test shows what the server saw.</summary>
internal sealed class TestOutputLoggerFactory(ITestOutputHelper output, LogLevel minimum = LogLevel.Debug) : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new Logger(output, categoryName[(categoryName.LastIndexOf('.') + 1)..], minimum);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            try
            {
                output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel,-11} {category}[{eventId.Id}] {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished; a late log line from a background handler has nowhere to go.
            }
        }
    }
}

/// <summary>
/// A simple sink for tests: each transaction writes a temporary file in <see cref="Directory"/>, renamed on commit;
/// failures can be injected at each step. Holds what was stored in memory too, for byte comparisons.
/// </summary>
internal sealed class DirectorySink(string directory) : IStorageSink
{
    public string Directory { get; } = directory;

    public ConcurrentDictionary<string, (StoreRequestContext Context, byte[] Dataset)> Stored { get; } = new();

    public Func<StoreRequestContext, Exception?> FailOnBegin { get; set; } = _ => null;

    public Func<long, Exception?> FailOnWrite { get; set; } = _ => null;

    public Func<Exception?> FailOnCommit { get; set; } = () => null;

    /// <summary>Completes when a transaction has received at least this many bytes (for mid-transfer tests).</summary>
    public TaskCompletionSource<bool> BytesReached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long BytesThreshold { get; set; } = long.MaxValue;

    public int Disposed;

    public ValueTask<IStoreTransaction> BeginAsync(StoreRequestContext context, CancellationToken cancellationToken)
    {
        if (FailOnBegin(context) is { } error)
        {
            throw error;
        }
        var temp = Path.Combine(Directory, Guid.NewGuid().ToString("N") + ".tmp");
        return ValueTask.FromResult<IStoreTransaction>(new Transaction(this, context, temp));
    }

    private sealed class Transaction(DirectorySink sink, StoreRequestContext context, string temp) : IStoreTransaction
    {
        private readonly FileStream _file = new(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.Asynchronous);
        private readonly MemoryStream _copy = new();
        private bool _committed;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> datasetBytes, CancellationToken cancellationToken)
        {
            if (sink.FailOnWrite(_copy.Length) is { } error)
            {
                throw error;
            }
            await _file.WriteAsync(datasetBytes, cancellationToken);
            _copy.Write(datasetBytes.Span);
            if (_copy.Length >= sink.BytesThreshold)
            {
                sink.BytesReached.TrySetResult(true);
            }
        }

        public async ValueTask<StoreOutcome> CommitAsync(CancellationToken cancellationToken)
        {
            if (sink.FailOnCommit() is { } error)
            {
                throw error;
            }
            await _file.FlushAsync(cancellationToken);
            await _file.DisposeAsync();
            File.Move(temp, Path.Combine(sink.Directory, Guid.NewGuid().ToString("N") + ".dcm"));
            sink.Stored[context.SopInstanceUid] = (context, _copy.ToArray());
            _committed = true;
            return StoreOutcome.Success;
        }

        public async ValueTask DisposeAsync()
        {
            await _file.DisposeAsync();
            if (!_committed)
            {
                File.Delete(temp);
            }
            Interlocked.Increment(ref sink.Disposed);
        }
    }
}

/// <summary>A hand-driven association over a raw socket, for sending exactly the PDUs a robustness test needs.</summary>
internal sealed class RawAssociation : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawAssociation(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Reader = new PduReader(_stream, new PduLimits(16 * 1024 * 1024));
    }

    public PduReader Reader { get; }

    public NetworkStream Stream => _stream;

    public Socket Socket => _socket;

    public static async Task<RawAssociation> ConnectAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port), cancellationToken);
        return new RawAssociation(socket);
    }

    /// <summary>Connects and negotiates; returns the peer's answer (AC or RJ).</summary>
    public static async Task<(RawAssociation Association, Pdu Answer)> AssociateAsync(IPEndPoint server, CancellationToken cancellationToken,
        string called = "SEGNODE", string calling = "RAWSCU", params PresentationContextProposal[] contexts)
    {
        var raw = await ConnectAsync(server, cancellationToken);
        if (contexts.Length == 0)
        {
            contexts =
            [
                new PresentationContextProposal(1, DicomUids.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid]),
                new PresentationContextProposal(3, DicomUids.MRImageStorage, [DicomTransferSyntax.ExplicitVRLittleEndian.Uid]),
                new PresentationContextProposal(5, DicomUids.CTImageStorage, [DicomTransferSyntax.ExplicitVRLittleEndian.Uid]),
            ];
        }
        await raw.SendAsync(new AAssociateRq(called, calling, contexts, new UserInformation { MaxPduLength = 16384 }), cancellationToken);
        var answer = await raw.ReadAsync(cancellationToken) ?? throw new IOException("Closed instead of answering the association request.");
        return (raw, answer);
    }

    public async Task SendAsync(Pdu pdu, CancellationToken cancellationToken) => await _stream.WriteAsync(PduEncoder.Encode(pdu), cancellationToken);

    public async Task SendRawAsync(byte[] bytes, CancellationToken cancellationToken) => await _stream.WriteAsync(bytes, cancellationToken);

    public async Task SendCommandAsync(byte context, DimseCommand command, CancellationToken cancellationToken) =>
        await SendAsync(new PDataTf([new PresentationDataValue(context, true, true, command.Encode())]), cancellationToken);

    public async Task SendDataAsync(byte context, byte[] data, bool last, CancellationToken cancellationToken) =>
        await SendAsync(new PDataTf([new PresentationDataValue(context, false, last, data)]), cancellationToken);

    public async Task<Pdu?> ReadAsync(CancellationToken cancellationToken) => await Reader.ReadAsync(cancellationToken);

    /// <summary>Reads the next DIMSE response command (single or multi-PDV).</summary>
    public async Task<DimseCommand> ReadCommandAsync(CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        while (true)
        {
            var pdu = await ReadAsync(cancellationToken);
            if (pdu is not PDataTf data)
            {
                throw new IOException($"Expected P-DATA-TF, got {pdu?.ToString() ?? "end of stream"}.");
            }
            foreach (var pdv in data.Values)
            {
                buffer.Write(pdv.Data.Span);
                if (pdv.IsCommand && pdv.IsLastFragment)
                {
                    return DimseCommand.Decode(buffer.ToArray());
                }
            }
        }
    }

    /// <summary>
    /// Reads until the server closes, or, as a conforming peer does, until it sends A-ABORT (then we close);
    /// returns every PDU seen. Bounded by the token.
    /// </summary>
    public async Task<List<Pdu>> ReadUntilClosedAsync(CancellationToken cancellationToken)
    {
        var seen = new List<Pdu>();
        try
        {
            while (await ReadAsync(cancellationToken) is { } pdu)
            {
                seen.Add(pdu);
                if (pdu is AAbort)
                {
                    _socket.Close();
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or DicomFormatException)
        {
            // Reset by the server after its last PDU: the connection is closed either way.
        }
        return seen;
    }

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync();
}

internal static class TestServers
{
    public static DicomServerOptions Options(Action<DicomServerOptions>? configure = null)
    {
        var options = new DicomServerOptions
        {
            Port = 0,
            BindAddress = "127.0.0.1",
            ArtimTimeout = TimeSpan.FromSeconds(5),
            IdleTimeout = TimeSpan.FromSeconds(30),
            DimseTimeout = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        return options;
    }

    public static async Task<DicomServer> StartAsync(IStorageSink sink, ITestOutputHelper output, Action<DicomServerOptions>? configure = null)
    {
        var server = new DicomServer(Options(configure), sink, new TestOutputLoggerFactory(output));
        await server.StartAsync(CancellationToken.None);
        return server;
    }

    public static DicomClientOptions Client(DicomServer server, Action<DicomClientOptions>? configure = null)
    {
        var options = new DicomClientOptions
        {
            CalledAeTitle = "SEGNODE",
            Host = "127.0.0.1",
            Port = server.LocalEndPoint.Port,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ArtimTimeout = TimeSpan.FromSeconds(10),
            DimseTimeout = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the timeout passes (bounded: no test may hang).</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(20);
        }
        return condition();
    }
}
