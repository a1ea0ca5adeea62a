using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using SpineSegDiff.Gateway.Telemetry;
using SpineSegDiff.Telemetry;

namespace SpineSegDiff.Gateway.Export;

/// <summary>What one pass over the due items did.</summary>
public sealed record ExportPassResult(int Delivered, int Failed, int Parked, int Skipped);

/// <summary>
/// Delivers due pending items (destinations concurrently, one item at a time per destination), each through its
/// destination's Polly pipeline: retries with
/// exponential backoff and jitter for transient failures (within a round), inside them a circuit breaker per
/// destination so a PACS that is down is not hammered. A failed round is recorded in the item's manifest with the
/// time of the next round (exponential, durable across restarts); an item still undelivered after MaxPendingAge is
/// parked, and a permanent failure parks it at once: nothing loops (MONAI Deploy Informatics Gateway #200).
/// Cancellation stops between sends; an interrupted item stays pending with what it already delivered.
/// </summary>
public sealed class ExportDispatcher : BackgroundService
{
    private static readonly ResiliencePropertyKey<string> ItemIdKey = new("spineseg.export.item");

    private readonly ExportQueue _queue;
    private readonly ExportOptions _options;
    private readonly ExportMetrics _metrics;
    private readonly ILogger<ExportDispatcher> _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Destination> _destinations;
    private int _passRunning;

    public ExportDispatcher(
        ExportQueue queue,
        IEnumerable<IExportSender> senders,
        ExportOptions options,
        ExportMetrics metrics,
        ILogger<ExportDispatcher> logger,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(senders);
        _queue = queue ?? throw new ArgumentNullException(nameof(queue));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _time = time ?? TimeProvider.System;
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid export options: " + string.Join(" ", errors), nameof(options));
        }
        _destinations = new Dictionary<string, Destination>(StringComparer.OrdinalIgnoreCase);
        foreach (var sender in senders)
        {
            _destinations.Add(sender.DestinationName.Trim(), new Destination(sender, BuildPipeline(sender.DestinationName)));
        }
    }

    /// <summary>Loops until cancelled: a pass over the due items, then a wait for new work or the next due time.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // The first pass reads the queue synchronously; a host's StartAsync must not wait for it.
        await Task.Yield();
        ExportLog.Started(_logger, _destinations.Count, _queue.RootDirectory, _queue.PendingCount);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    // A full or failing disk under the queue: log it, wait, try again; the items are still there.
                    ExportLog.PassFailed(_logger, ex);
                }
                try
                {
                    await _queue.WaitForWorkAsync(NextWait(), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        finally
        {
            ExportLog.Stopped(_logger, _queue.PendingCount);
        }
    }

    /// <summary>
    /// One pass over the items due now. Destinations are served concurrently (a PACS that times out must not hold up a
    /// folder or another PACS), the items of one destination one after the other in enqueue order. Throws
    /// <see cref="OperationCanceledException"/> when cancelled (the items in hand stay pending).
    /// </summary>
    public async Task<ExportPassResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        // Two passes at once would send the same item twice: a second caller is a bug, not a race to tolerate.
        if (Interlocked.Exchange(ref _passRunning, 1) == 1)
        {
            throw new InvalidOperationException("An export pass is already running (RunOnceAsync and RunAsync must not overlap).");
        }
        try
        {
            var due = _queue.ListDue(_time.GetUtcNow());
            var passes = due
                .GroupBy(i => i.Destination, StringComparer.OrdinalIgnoreCase)
                .Select(group => RunDestinationAsync(group.Key, [.. group], cancellationToken));
            var results = await Task.WhenAll(passes).ConfigureAwait(false);
            return new ExportPassResult(results.Sum(r => r.Delivered), results.Sum(r => r.Failed), results.Sum(r => r.Parked), results.Sum(r => r.Skipped));
        }
        finally
        {
            Volatile.Write(ref _passRunning, 0);
        }
    }

    private async Task<ExportPassResult> RunDestinationAsync(string name, IReadOnlyList<ExportItem> items, CancellationToken cancellationToken)
    {
        // Off the caller's thread: one destination's synchronous work (file I/O) never delays another's start.
        await Task.Yield();
        int delivered = 0, failed = 0, parked = 0, skipped = 0;
        if (!_destinations.TryGetValue(name, out var destination))
        {
            foreach (var item in items)
            {
                var failure = ExportFailure.Permanent("The destination is no longer configured");
                await _queue.ParkAsync(item.Id, failure, 0, CancellationToken.None).ConfigureAwait(false);
                _metrics.Parked(item.Destination, failure.Kind);
                ExportLog.ParkedPermanent(_logger, item.Id, item.Destination, failure.Reason, item.CorrelationId);
                parked++;
            }
            return new ExportPassResult(delivered, failed, parked, skipped);
        }
        var broken = false;
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (broken)
            {
                ExportLog.SkippedOpenCircuit(_logger, item.Id, item.Destination);
                skipped++;
                continue;
            }
            switch (await ProcessAsync(item, destination, cancellationToken).ConfigureAwait(false))
            {
                case Outcome.Delivered:
                    delivered++;
                    break;
                case Outcome.Parked:
                    parked++;
                    break;
                case Outcome.Failed:
                    failed++;
                    break;
                case Outcome.CircuitOpen:
                    failed++;
                    broken = true;
                    break;
                case Outcome.SkippedCircuitOpen:
                    skipped++;
                    broken = true;
                    break;
            }
        }
        return new ExportPassResult(delivered, failed, parked, skipped);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(stoppingToken);

    private async Task<Outcome> ProcessAsync(ExportItem item, Destination destination, CancellationToken cancellationToken)
    {
        using var activity = GatewayTelemetry.Source.StartActivity("export.delivery", ActivityKind.Internal, GatewayTelemetry.ParseTraceParent(item.TraceParent));
        activity?.SetTag(TelemetryAttributes.CorrelationId, item.CorrelationId);
        activity?.SetTag(TelemetryAttributes.Destination, item.Destination);
        activity?.SetTag("spineseg.export_item", item.Id);
        var round = new Round(this, destination.Sender, item);
        ExportSendResult result;
        var circuitOpen = false;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(ItemIdKey, item.Id);
        try
        {
            result = await destination.Pipeline.ExecuteAsync(
                static (context, round) => round.AttemptAsync(context.CancellationToken), context, round).ConfigureAwait(false);
        }
        catch (BrokenCircuitException) when (round.Attempts == 0)
        {
            activity?.SetTag("spineseg.export.outcome", "circuit-open");
            ExportLog.SkippedOpenCircuit(_logger, item.Id, item.Destination);
            return Outcome.SkippedCircuitOpen;
        }
        catch (BrokenCircuitException)
        {
            circuitOpen = true;
            result = round.LastResult ?? new ExportSendResult([], ExportFailure.Transient("Circuit open"));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown: keep the item as it is (delivered files are already recorded), count the sends made.
            if (round.Attempts > 0)
            {
                await _queue.RecordAttemptsAsync(item.Id, round.Attempts, CancellationToken.None).ConfigureAwait(false);
            }
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        var current = round.Item;
        if (current.IsComplete)
        {
            await _queue.CompleteAsync(item.Id, CancellationToken.None).ConfigureAwait(false);
            _metrics.Delivered(current.Destination);
            AuditExport(activity, "export.delivered", current, round.Attempts, null);
            ExportLog.Delivered(_logger, item.Id, current.Destination, current.CorrelationId, current.Files.Count, current.Attempts + round.Attempts);
            return Outcome.Delivered;
        }

        var failure = result.Failure ?? ExportFailure.Transient("Some files were not confirmed");
        if (failure.Kind == ExportFailureKind.Permanent)
        {
            await _queue.ParkAsync(item.Id, failure, round.Attempts, CancellationToken.None).ConfigureAwait(false);
            _metrics.Parked(current.Destination, failure.Kind);
            AuditExport(activity, "export.parked", current, round.Attempts, failure.Reason);
            ExportLog.ParkedPermanent(_logger, item.Id, current.Destination, failure.Reason, current.CorrelationId);
            return Outcome.Parked;
        }

        var now = _time.GetUtcNow();
        if (now - current.PendingSince >= _options.MaxPendingAge)
        {
            await _queue.ParkAsync(item.Id, ExportFailure.Transient($"Not delivered within {_options.MaxPendingAge}: {failure.Reason}"), round.Attempts, CancellationToken.None).ConfigureAwait(false);
            _metrics.Parked(current.Destination, ExportFailureKind.Transient);
            AuditExport(activity, "export.parked", current, round.Attempts, "expired: " + failure.Reason);
            ExportLog.ParkedExpired(_logger, item.Id, current.Destination, _options.MaxPendingAge, current.Attempts + round.Attempts, failure.Reason, current.CorrelationId);
            return Outcome.Parked;
        }

        var next = now + NextRoundDelay(current.FailedRounds + 1);
        var recorded = await _queue.RecordFailedRoundAsync(item.Id, round.Attempts, failure.Reason, next, CancellationToken.None).ConfigureAwait(false);
        activity?.SetTag("spineseg.export.outcome", "retry-later");
        activity.Failed(failure.Reason);
        ExportLog.RoundFailed(_logger, item.Id, current.Destination, recorded.FailedRounds, round.Attempts, failure.Reason, next);
        return circuitOpen ? Outcome.CircuitOpen : Outcome.Failed;
    }

    /// <summary>Exponential in the number of failed rounds, capped, with +-20 % jitter when configured.</summary>
    private TimeSpan NextRoundDelay(int failedRounds)
    {
        var retry = _options.Retry;
        var exponent = Math.Min(failedRounds - 1, 30);
        var delay = TimeSpan.FromTicks((long)Math.Min(retry.NextRoundDelay.Ticks * Math.Pow(2, exponent), retry.MaxNextRoundDelay.Ticks));
        if (retry.UseJitter)
        {
            delay = TimeSpan.FromTicks((long)(delay.Ticks * (0.8 + (0.4 * Random.Shared.NextDouble()))));
        }
        return delay < retry.MaxNextRoundDelay ? delay : retry.MaxNextRoundDelay;
    }

    /// <summary>Until the earliest pending item is due, at most the polling interval.</summary>
    private TimeSpan NextWait()
    {
        var pending = _queue.ListPending();
        if (pending.Count == 0)
        {
            return _options.PollingInterval;
        }
        var untilDue = pending.Min(i => i.NextAttemptAt) - _time.GetUtcNow();
        if (untilDue < TimeSpan.FromMilliseconds(1))
        {
            // Due now but not taken in the last pass (open circuit): wait a poll rather than spin.
            return _options.PollingInterval;
        }
        return untilDue < _options.PollingInterval ? untilDue : _options.PollingInterval;
    }

    private ResiliencePipeline<ExportSendResult> BuildPipeline(string destinationName)
    {
        var builder = new ResiliencePipelineBuilder<ExportSendResult> { Name = "export:" + destinationName, TimeProvider = _time };
        var retry = _options.Retry;
        if (retry.AttemptsPerRound > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<ExportSendResult>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { IsTransientFailure: true }),
                MaxRetryAttempts = retry.AttemptsPerRound - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = retry.UseJitter,
                Delay = retry.BaseDelay,
                MaxDelay = retry.MaxDelay,
                OnRetry = args =>
                {
                    _metrics.Retried(destinationName);
                    var reason = args.Outcome.Result?.Failure?.Reason ?? "failure";
                    var itemId = args.Context.Properties.TryGetValue(ItemIdKey, out var id) ? id : "-";
                    ExportLog.Retrying(_logger, itemId, destinationName, args.AttemptNumber + 1, reason, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }
        var breaker = _options.CircuitBreaker;
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<ExportSendResult>
        {
            // Only transient failures say the destination is unwell; a permanent refusal comes from a healthy peer.
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { IsTransientFailure: true }),
            FailureRatio = breaker.FailureRatio,
            MinimumThroughput = breaker.MinimumThroughput,
            SamplingDuration = breaker.SamplingDuration,
            BreakDuration = breaker.BreakDuration,
            OnOpened = args =>
            {
                ExportLog.CircuitOpened(_logger, destinationName, args.BreakDuration);
                return ValueTask.CompletedTask;
            },
            OnHalfOpened = _ =>
            {
                ExportLog.CircuitHalfOpened(_logger, destinationName);
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                ExportLog.CircuitClosed(_logger, destinationName);
                return ValueTask.CompletedTask;
            },
        });
        return builder.Build();
    }

    private enum Outcome
    {
        Delivered,
        Failed,
        Parked,
        CircuitOpen,
        SkippedCircuitOpen,
    }

    /// <summary>Delivered or parked: an audit event with the destination (reasons are protocol text, never patient data).</summary>
    private static void AuditExport(Activity? activity, string name, ExportItem item, int attempts, string? reason)
    {
        activity?.SetTag("spineseg.export.outcome", name);
        activity.Audit(name,
            new(TelemetryAttributes.CorrelationId, item.CorrelationId),
            new(TelemetryAttributes.Destination, item.Destination),
            new("spineseg.export_item", item.Id),
            new("spineseg.files", item.Files.Count),
            new("spineseg.attempts", item.Attempts + attempts),
            new(TelemetryAttributes.Reason, reason));
    }

    private sealed record Destination(IExportSender Sender, ResiliencePipeline<ExportSendResult> Pipeline);

    /// <summary>One item's round through the pipeline: each attempt sends only what is not yet delivered.</summary>
    private sealed class Round(ExportDispatcher dispatcher, IExportSender sender, ExportItem item)
    {
        public ExportItem Item { get; private set; } = item;

        public int Attempts { get; private set; }

        public ExportSendResult? LastResult { get; private set; }

        public async ValueTask<ExportSendResult> AttemptAsync(CancellationToken cancellationToken)
        {
            var queue = dispatcher._queue;
            var remaining = Item.Files.Where(f => !f.Delivered).Select(f => new ExportSendFile(f.Name, queue.PathOf(Item, f))).ToList();
            if (remaining.Count == 0)
            {
                return LastResult = new ExportSendResult([], null);
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (Attempts == 0 && Item.Attempts > 0)
            {
                // The first send of a later round repeats an earlier one (Polly's OnRetry counts those within a round).
                dispatcher._metrics.Retried(sender.DestinationName);
            }
            Attempts++;
            // One span per send (Polly attempt), a child of the item's export.delivery span.
            using var activity = GatewayTelemetry.Source.StartActivity("export.attempt", ActivityKind.Client);
            activity?.SetTag(TelemetryAttributes.Destination, sender.DestinationName);
            activity?.SetTag("spineseg.attempt", Item.Attempts + Attempts);
            activity?.SetTag("spineseg.files", remaining.Count);
            ExportSendResult result;
            try
            {
                result = await sender.SendAsync(Item.Id, remaining, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ExportLog.SenderFailed(dispatcher._logger, sender.DestinationName, Item.Id, ex);
                result = new ExportSendResult([], ExportFailure.Transient("The sender failed unexpectedly: " + ex.GetType().Name));
            }
            activity?.SetTag("spineseg.files.delivered", result.Delivered.Count);
            if (result.Failure is { } failure)
            {
                activity.Failed(failure.Reason);
            }
            if (result.Delivered.Count > 0)
            {
                // Recorded at once, even when shutdown is under way: the destination has these files.
                Item = await queue.MarkDeliveredAsync(Item.Id, result.Delivered.ToHashSet(StringComparer.Ordinal), CancellationToken.None).ConfigureAwait(false);
            }
            return LastResult = result;
        }
    }
}
