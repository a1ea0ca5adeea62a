using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// The DICOM listener: Verification SCP and Storage SCP. The accept loop only accepts: each connection runs in its
/// own task, so silent or slow clients never delay anyone else (fo-dicom #1468/#1669; dcmtk storescp and Orthanc
/// serve connections one after another). Limits refuse instead of blocking: sockets beyond
/// <see cref="DicomServerOptions.MaxPendingConnections"/> are closed at once, associations beyond
/// <see cref="DicomServerOptions.MaxAssociations"/> get a transient A-ASSOCIATE-RJ.
/// </summary>
public sealed class DicomServer : IAsyncDisposable
{
    /// <summary>How long <see cref="StopAsync"/> waits for connection handlers after aborting them.</summary>
    private static readonly TimeSpan HandlerShutdownTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TcpListener? _listener;
    private IPEndPoint? _localEndPoint;
    private Task _acceptLoop = Task.CompletedTask;
    private CancellationTokenRegistration _lifetimeRegistration;
    private long _nextConnectionId;
    private int _pending;
    private int _active;
    private int _started;
    private int _stopRequested;

    /// <param name="meterFactory">The host's meter factory for the SCP's instruments; null: a meter of its own, disposed with the server.</param>
    public DicomServer(DicomServerOptions options, IStorageSink sink, ILoggerFactory loggerFactory, TimeProvider? time = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid DICOM server options: " + string.Join(" ", errors), nameof(options));
        }
        Options = Snapshot(options);
        Sink = sink ?? throw new ArgumentNullException(nameof(sink));
        Logger = loggerFactory.CreateLogger<DicomServer>();
        Time = time ?? TimeProvider.System;
        Negotiator = new AssociationNegotiator(Options.ToPolicy());
        Telemetry = new DicomServerTelemetry(Sink.CheckCapacity, meterFactory);
    }

    /// <summary>Raised when an accepted association ends (after its last response), on the connection's task.</summary>
    public event EventHandler<AssociationEndedEventArgs>? AssociationEnded;

    /// <summary>The bound address and port (the actual port when 0 was configured).</summary>
    public IPEndPoint LocalEndPoint => _localEndPoint ?? throw new InvalidOperationException("The server has not been started.");

    /// <summary>Associations accepted and not yet ended.</summary>
    public int ActiveAssociations => Volatile.Read(ref _active);

    /// <summary>Connections that have not yet sent their A-ASSOCIATE-RQ (or been closed).</summary>
    public int PendingConnections => Volatile.Read(ref _pending);

    internal DicomServerOptions Options { get; }

    internal IStorageSink Sink { get; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    internal AssociationNegotiator Negotiator { get; }

    internal DicomServerTelemetry Telemetry { get; }

    /// <summary>
    /// Binds and starts accepting. Cancelling <paramref name="cancellationToken"/> later shuts the server down as
    /// <see cref="StopAsync"/> does (stop accepting, abort open associations, wait for their handlers).
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("The server was already started.");
        }
        var listener = new TcpListener(IPAddress.Parse(Options.BindAddress), Options.Port);
        listener.Start(Options.MaxPendingConnections);
        _listener = listener;
        // Kept: a stopped listener reports the configured endpoint (port 0), not the one it was bound to.
        _localEndPoint = (IPEndPoint)listener.LocalEndpoint;
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener, _stopping.Token), CancellationToken.None);
        _lifetimeRegistration = cancellationToken.Register(static state => _ = ((DicomServer)state!).StopAsync(), this);
        NetworkLog.ServerStarted(Logger, string.Join(", ", Options.AllAeTitles()), LocalEndPoint);
        return Task.CompletedTask;
    }

    /// <summary>Stops accepting, aborts open associations (A-ABORT) and waits for their handlers. Safe to call more than once.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 1)
        {
            await _stopped.Task.ConfigureAwait(false);
            return;
        }
        try
        {
            NetworkLog.ServerStopping(Logger, _connections.Count);
            await _stopping.CancelAsync().ConfigureAwait(false);
            _listener?.Stop();
            await _acceptLoop.ConfigureAwait(false);
            var handlers = Task.WhenAll(_connections.Values);
            var finished = await Task.WhenAny(handlers, Task.Delay(HandlerShutdownTimeout, Time)).ConfigureAwait(false);
            if (finished != handlers)
            {
                NetworkLog.ShutdownIncomplete(Logger, _connections.Count, HandlerShutdownTimeout);
            }
            NetworkLog.ServerStopped(Logger, _connections.Count);
        }
        finally
        {
            _lifetimeRegistration.Dispose();
            _stopped.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Telemetry.Dispose();
        if (_connections.IsEmpty)
        {
            // A handler that outlived the shutdown timeout still holds this token; leave it to the finalizer then.
            _stopping.Dispose();
        }
    }

    internal void OnConnectionLeftPending() => Interlocked.Decrement(ref _pending);

    /// <summary>Claims an association slot; false (with the count seen) when the limit is reached.</summary>
    internal bool TryEnterAssociation(out int active)
    {
        active = Interlocked.Increment(ref _active);
        if (active <= Options.MaxAssociations)
        {
            return true;
        }
        Interlocked.Decrement(ref _active);
        active--;
        return false;
    }

    internal void LeaveAssociation() => Interlocked.Decrement(ref _active);

    internal void RaiseAssociationEnded(AssociationEndedEventArgs args)
    {
        try
        {
            AssociationEnded?.Invoke(this, args);
        }
        catch (Exception ex)
        {
            // A subscriber's bug must not take the connection handler (or the server) down.
            NetworkLog.AssociationEndedHandlerFailed(Logger, args.AssociationId, ex);
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || stopping.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException ex)
            {
                // E.g. out of file descriptors: keep serving the connections we have and try again shortly.
                NetworkLog.AcceptFailed(Logger, ex);
                try
                {
                    await Task.Delay(AcceptRetryDelay, Time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }

            try
            {
                Dispatch(socket, stopping);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The peer vanished between accept and dispatch; nothing to serve, and the loop must go on.
                NetworkLog.AcceptFailed(Logger, ex);
                socket.Dispose();
            }
        }
    }

    /// <summary>Hands an accepted socket to its own task, or closes it at once when too many wait to associate.</summary>
    private void Dispatch(Socket socket, CancellationToken stopping)
    {
        var pending = Interlocked.Increment(ref _pending);
        if (pending > Options.MaxPendingConnections)
        {
            Interlocked.Decrement(ref _pending);
            NetworkLog.PendingLimitReached(Logger, socket.RemoteEndPoint, pending - 1, Options.MaxPendingConnections);
            socket.Dispose();
            return;
        }
        var id = Interlocked.Increment(ref _nextConnectionId);
        ScpConnection connection;
        try
        {
            connection = new ScpConnection(this, id, socket, stopping);
        }
        catch
        {
            Interlocked.Decrement(ref _pending);
            throw;
        }
        // Started, tracked and never awaited here: the accept loop goes straight back to accepting.
        var task = Task.Run(connection.RunAsync, CancellationToken.None);
        _connections[id] = task;
        _ = task.ContinueWith(completed => _connections.TryRemove(id, out var _), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>A private copy, so changing the options object after construction cannot change a running server.</summary>
    private static DicomServerOptions Snapshot(DicomServerOptions o) => new()
    {
        AeTitle = o.AeTitle.Trim(),
        ExtraAeTitles = [.. o.ExtraAeTitles],
        AeTitles = [.. o.AeTitles.Select(t => t.Copy())],
        Port = o.Port,
        BindAddress = o.BindAddress,
        AllowedCallingAeTitles = [.. o.AllowedCallingAeTitles],
        RequireKnownCalledAeTitle = o.RequireKnownCalledAeTitle,
        MaxAssociations = o.MaxAssociations,
        MaxPendingConnections = o.MaxPendingConnections,
        MaxPduLength = o.MaxPduLength,
        ArtimTimeout = o.ArtimTimeout,
        IdleTimeout = o.IdleTimeout,
        DimseTimeout = o.DimseTimeout,
        AcceptedSopClasses = [.. o.AcceptedSopClasses],
        AcceptedTransferSyntaxes = [.. o.AcceptedTransferSyntaxes],
    };
}
