using Microsoft.Extensions.Logging;
using SpineSegDiff.Gateway.Export;

namespace SpineSegDiff.Gateway.Tests.Support;

/// <summary>The exporter as the node hosts it (queue, metrics, senders built from options, dispatcher), with its logs and metrics captured.</summary>
internal sealed class ExportNode : IDisposable
{
    public ExportNode(ExportOptions options, TimeProvider? time = null, Func<IExportSender, IExportSender>? wrapSender = null)
    {
        Options = options;
        LoggerFactory = Logs.CreateFactory();
        Queue = new ExportQueue(options, LoggerFactory.CreateLogger<ExportQueue>(), time);
        Metrics = new ExportMetrics(Queue);
        Captured = new MetricsCapture(Metrics);
        var senders = ExportSenders.Create(options, LoggerFactory, time).Select(s => wrapSender?.Invoke(s) ?? s);
        Dispatcher = new ExportDispatcher(Queue, senders, options, Metrics, LoggerFactory.CreateLogger<ExportDispatcher>(), time);
    }

    public ExportOptions Options { get; }

    public CapturingLoggerProvider Logs { get; } = new();

    public ILoggerFactory LoggerFactory { get; }

    public ExportQueue Queue { get; }

    public ExportMetrics Metrics { get; }

    public MetricsCapture Captured { get; }

    public ExportDispatcher Dispatcher { get; }

    /// <summary>Runs the dispatcher loop until <paramref name="done"/> holds (bounded), then stops it cleanly.</summary>
    public async Task RunUntilAsync(Func<bool> done, TimeSpan timeout)
    {
        using var stop = new CancellationTokenSource();
        var loop = Dispatcher.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow + timeout;
        while (!done() && DateTime.UtcNow < deadline && !loop.IsCompleted)
        {
            await Task.Delay(20);
        }
        await stop.CancelAsync();
        await loop;
    }

    public void Dispose()
    {
        Dispatcher.Dispose();
        Captured.Dispose();
        Metrics.Dispose();
        Queue.Dispose();
        LoggerFactory.Dispose();
    }
}

/// <summary>Counts the calls that reach a real sender (a decorator, not a fake: the real sender still does the work).</summary>
internal sealed class CountingSender(IExportSender inner) : IExportSender
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public string DestinationName => inner.DestinationName;

    public Task<ExportSendResult> SendAsync(string itemId, IReadOnlyList<ExportSendFile> files, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return inner.SendAsync(itemId, files, cancellationToken);
    }
}

/// <summary>The system clock moved forward by <see cref="Offset"/> (timers stay real), to age items past MaxPendingAge.</summary>
internal sealed class ShiftedTimeProvider : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
