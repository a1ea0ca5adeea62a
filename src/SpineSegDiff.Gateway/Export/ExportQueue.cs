using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Gateway.Export;

/// <summary>
/// The durable on-disk export queue. Each item is a folder named by a generated id, holding copies of the files to
/// send (named 0000.dcm, 0001.dcm, ...: never from UIDs or AE titles) and manifest.json. Every change is a crash-safe
/// step: files and manifests are fsynced before they are renamed into place, and a whole item moves between
/// <c>pending/</c> and <c>parked/</c> with one directory rename. A new queue over the same folder (after a restart or a
/// crash) finishes or undoes whatever step was interrupted: an enqueue that never returned is removed (its caller
/// still holds the results and retries), a delivery that was being removed is removed, a park or retry whose manifest
/// was committed is completed. One queue (one process) owns a folder at a time; a lock file enforces it.
/// </summary>
public sealed partial class ExportQueue : IDisposable
{
    private const string ManifestName = "manifest.json";
    private const string ReasonName = "reason.json";
    private const string LockName = "queue.lock";
    private const int MaxCorrelationIdLength = 128;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly ExportOptions _options;
    private readonly ILogger<ExportQueue> _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _workAvailable = new(0, 1);
    private readonly FileStream _lock;
    private int _pendingCount;
    private bool _disposed;

    public ExportQueue(ExportOptions options, ILogger<ExportQueue> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid export options: " + string.Join(" ", errors), nameof(options));
        }
        _options = options;
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _time = time ?? TimeProvider.System;
        RootDirectory = Path.GetFullPath(options.QueueDirectory);
        PendingDirectory = Path.Combine(RootDirectory, "pending");
        ParkedDirectory = Path.Combine(RootDirectory, "parked");
        StagingDirectory = Path.Combine(RootDirectory, ".staging");
        DeliveredDirectory = Path.Combine(RootDirectory, ".delivered");
        DamagedDirectory = Path.Combine(RootDirectory, "damaged");
        foreach (var directory in new[] { PendingDirectory, ParkedDirectory, StagingDirectory, DeliveredDirectory })
        {
            Directory.CreateDirectory(directory);
        }
        try
        {
            _lock = new FileStream(Path.Combine(RootDirectory, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"The export queue folder {RootDirectory} is in use by another exporter.", ex);
        }
        Recover();
        _pendingCount = CountItems(PendingDirectory);
        LogOpened(RootDirectory, _pendingCount, CountItems(ParkedDirectory));
    }

    public string RootDirectory { get; }

    public string PendingDirectory { get; }

    public string ParkedDirectory { get; }

    /// <summary>Items whose manifest could not be read at start: kept for a person to look at, never deleted.</summary>
    public string DamagedDirectory { get; }

    internal string StagingDirectory { get; }

    internal string DeliveredDirectory { get; }

    /// <summary>Items waiting for delivery (the pending-items gauge).</summary>
    public int PendingCount => Volatile.Read(ref _pendingCount);

    /// <summary>
    /// Copies <paramref name="sourceFiles"/> into a new pending item for <paramref name="destination"/> and returns it once
    /// it is durable: after this returns the caller may delete its own copies. <paramref name="correlationId"/> is an
    /// opaque id for tracing (no patient data); it goes to logs.
    /// </summary>
    public async Task<ExportItem> EnqueueAsync(string destination, string correlationId, IReadOnlyList<string> sourceFiles, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(sourceFiles);
        var target = _options.FindDestination(destination)
            ?? throw new ArgumentException($"Unknown export destination '{destination}'.", nameof(destination));
        CheckCorrelationId(correlationId);
        if (sourceFiles.Count == 0)
        {
            throw new ArgumentException("An export needs at least one file.", nameof(sourceFiles));
        }

        var id = Guid.CreateVersion7().ToString("N");
        var staging = Path.Combine(StagingDirectory, id);
        Directory.CreateDirectory(staging);
        try
        {
            var files = new List<ExportFile>(sourceFiles.Count);
            for (var i = 0; i < sourceFiles.Count; i++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"{i:D4}.dcm");
                var copy = Path.Combine(staging, name);
                await DurableFiles.CopyAsync(sourceFiles[i], copy, cancellationToken).ConfigureAwait(false);
                files.Add(new ExportFile(name, new FileInfo(copy).Length, Delivered: false));
            }
            var now = _time.GetUtcNow();
            var item = new ExportItem
            {
                Id = id,
                Destination = target.Name.Trim(),
                CorrelationId = correlationId,
                CreatedAt = now,
                PendingSince = now,
                NextAttemptAt = now,
                Files = files,
                TraceParent = Telemetry.GatewayTelemetry.CurrentTraceParent(),
            };
            await WriteManifestAsync(staging, item, cancellationToken).ConfigureAwait(false);
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                DurableFiles.MoveDirectory(staging, ItemDirectory(PendingDirectory, id));
                Interlocked.Increment(ref _pendingCount);
            }
            finally
            {
                _gate.Release();
            }
            LogEnqueued(id, item.Destination, correlationId, files.Count);
            SignalWork();
            return item;
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    /// <summary>Pending items in id (enqueue) order.</summary>
    public IReadOnlyList<ExportItem> ListPending() => ListItems(PendingDirectory);

    /// <summary>Parked items in id order, each with its <see cref="ExportItem.Park"/> reason: what the status page shows.</summary>
    public IReadOnlyList<ExportItem> ListParked() => ListItems(ParkedDirectory);

    /// <summary>Pending items whose next attempt is due at <paramref name="now"/>.</summary>
    public IReadOnlyList<ExportItem> ListDue(DateTimeOffset now) => ListPending().Where(i => i.NextAttemptAt <= now).ToList();

    /// <summary>The pending or parked item with this id, or null.</summary>
    public ExportItem? Find(string id)
    {
        if (!IsItemId(id))
        {
            return null;
        }
        foreach (var folder in new[] { PendingDirectory, ParkedDirectory })
        {
            var directory = ItemDirectory(folder, id);
            if (Directory.Exists(directory))
            {
                return TryReadManifest(directory);
            }
        }
        return null;
    }

    /// <summary>The queued copy of one of a pending item's files.</summary>
    public string PathOf(ExportItem item, ExportFile file)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(file);
        var folder = item.State == ExportItemState.Parked ? ParkedDirectory : PendingDirectory;
        return Path.Combine(ItemDirectory(folder, item.Id), file.Name);
    }

    /// <summary>Records that the destination confirmed these files, so that a later attempt does not resend them.</summary>
    public Task<ExportItem> MarkDeliveredAsync(string id, IReadOnlyCollection<string> fileNames, CancellationToken cancellationToken) =>
        UpdatePendingAsync(id, item => item with
        {
            Files = item.Files.Select(f => fileNames.Contains(f.Name) ? f with { Delivered = true } : f).ToList(),
        }, cancellationToken);

    /// <summary>Records the sends made so far without changing the schedule (an attempt cut short by shutdown).</summary>
    public Task<ExportItem> RecordAttemptsAsync(string id, int attempts, CancellationToken cancellationToken) =>
        UpdatePendingAsync(id, item => item with { Attempts = item.Attempts + attempts }, cancellationToken);

    /// <summary>Records a failed round and when the next one may start.</summary>
    public Task<ExportItem> RecordFailedRoundAsync(string id, int attempts, string error, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken) =>
        UpdatePendingAsync(id, item => item with
        {
            Attempts = item.Attempts + attempts,
            FailedRounds = item.FailedRounds + 1,
            LastError = error,
            NextAttemptAt = nextAttemptAt,
        }, cancellationToken);

    /// <summary>Removes a delivered item: one rename out of pending/ (the commit), then the deletion.</summary>
    public async Task CompleteAsync(string id, CancellationToken cancellationToken)
    {
        CheckItemId(id);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var trash = ItemDirectory(DeliveredDirectory, id);
            DurableFiles.MoveDirectory(ItemDirectory(PendingDirectory, id), trash);
            Interlocked.Decrement(ref _pendingCount);
            TryDelete(trash);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Parks a pending item: it is not tried again until <see cref="RetryAsync"/>. Writes reason.json for people, then
    /// commits the state in the manifest, then moves the folder to parked/.
    /// </summary>
    public async Task<ExportItem> ParkAsync(string id, ExportFailure failure, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        CheckItemId(id);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var directory = ItemDirectory(PendingDirectory, id);
            var item = ReadManifest(directory);
            var parked = item with
            {
                State = ExportItemState.Parked,
                Attempts = item.Attempts + attempts,
                LastError = failure.Reason,
                Park = new ExportParkReason(failure.Kind, failure.Reason, _time.GetUtcNow()),
            };
            await WriteReasonAsync(directory, parked, cancellationToken).ConfigureAwait(false);
            await WriteManifestAsync(directory, parked, cancellationToken).ConfigureAwait(false);
            DurableFiles.MoveDirectory(directory, ItemDirectory(ParkedDirectory, id));
            Interlocked.Decrement(ref _pendingCount);
            return parked;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Puts a parked item back in the pending queue, due now, with a fresh MaxPendingAge period; files already
    /// delivered stay delivered. False when no parked item has this id (ids come from people: anything else is refused).
    /// </summary>
    public async Task<bool> RetryAsync(string parkedId, CancellationToken cancellationToken)
    {
        if (!IsItemId(parkedId))
        {
            return false;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var directory = ItemDirectory(ParkedDirectory, parkedId);
            if (!Directory.Exists(directory) || TryReadManifest(directory) is not { } item)
            {
                return false;
            }
            var now = _time.GetUtcNow();
            var pending = item with
            {
                State = ExportItemState.Pending,
                PendingSince = now,
                NextAttemptAt = now,
                FailedRounds = 0,
                Park = null,
            };
            await WriteManifestAsync(directory, pending, cancellationToken).ConfigureAwait(false);
            File.Delete(Path.Combine(directory, ReasonName));
            DurableFiles.MoveDirectory(directory, ItemDirectory(PendingDirectory, parkedId));
            Interlocked.Increment(ref _pendingCount);
            LogRetried(parkedId, item.Destination);
        }
        finally
        {
            _gate.Release();
        }
        SignalWork();
        return true;
    }

    /// <summary>Waits until an item is enqueued or retried, or <paramref name="timeout"/> passes.</summary>
    public async Task WaitForWorkAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _workAvailable.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _lock.Dispose();
        _gate.Dispose();
        _workAvailable.Dispose();
    }

    internal static bool IsItemId(string? id) => id is not null && ItemIdPattern().IsMatch(id);

    private async Task<ExportItem> UpdatePendingAsync(string id, Func<ExportItem, ExportItem> change, CancellationToken cancellationToken)
    {
        CheckItemId(id);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var directory = ItemDirectory(PendingDirectory, id);
            var updated = change(ReadManifest(directory));
            await WriteManifestAsync(directory, updated, cancellationToken).ConfigureAwait(false);
            return updated;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Finishes or undoes whatever a crash interrupted (see the class summary).</summary>
    private void Recover()
    {
        foreach (var leftover in Directory.EnumerateDirectories(StagingDirectory))
        {
            TryDelete(leftover);
            LogStagingRemoved(Path.GetFileName(leftover));
        }
        foreach (var leftover in Directory.EnumerateDirectories(DeliveredDirectory))
        {
            TryDelete(leftover);
        }
        foreach (var directory in Directory.EnumerateDirectories(PendingDirectory))
        {
            RecoverItem(directory, ExportItemState.Pending);
        }
        foreach (var directory in Directory.EnumerateDirectories(ParkedDirectory))
        {
            RecoverItem(directory, ExportItemState.Parked);
        }
    }

    private void RecoverItem(string directory, ExportItemState folderState)
    {
        var id = Path.GetFileName(directory);
        foreach (var temp in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            File.Delete(temp);
        }
        var item = IsItemId(id) ? TryReadManifest(directory) : null;
        if (item is null || item.Id != id || item.Files.Any(f => !File.Exists(Path.Combine(directory, f.Name))))
        {
            Directory.CreateDirectory(DamagedDirectory);
            var target = Path.Combine(DamagedDirectory, id);
            if (Directory.Exists(target))
            {
                target += "-" + Guid.NewGuid().ToString("N");
            }
            DurableFiles.MoveDirectory(directory, target);
            LogDamagedItem(id);
            return;
        }
        if (item.State == folderState)
        {
            if (folderState == ExportItemState.Pending)
            {
                // A retry that crashed after its move, before deleting the old reason.
                File.Delete(Path.Combine(directory, ReasonName));
            }
            return;
        }
        // The manifest was committed but the folder move did not happen: complete the park or the retry.
        var destination = item.State == ExportItemState.Parked ? ParkedDirectory : PendingDirectory;
        if (item.State == ExportItemState.Pending)
        {
            File.Delete(Path.Combine(directory, ReasonName));
        }
        else
        {
            WriteReasonAsync(directory, item, CancellationToken.None).GetAwaiter().GetResult();
        }
        DurableFiles.MoveDirectory(directory, ItemDirectory(destination, id));
        LogRecoveredMove(id, item.State);
    }

    private IReadOnlyList<ExportItem> ListItems(string folder)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var items = new List<ExportItem>();
        foreach (var directory in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            if (IsItemId(Path.GetFileName(directory)) && TryReadManifest(directory) is { } item)
            {
                items.Add(item);
            }
        }
        return items;
    }

    private static ExportItem ReadManifest(string directory) =>
        TryReadManifest(directory) ?? throw new InvalidOperationException($"Export item {Path.GetFileName(directory)} has no readable manifest.");

    private static ExportItem? TryReadManifest(string directory)
    {
        try
        {
            var bytes = File.ReadAllBytes(Path.Combine(directory, ManifestName));
            var item = JsonSerializer.Deserialize<ExportItem>(bytes, Json);
            return item is { Version: ExportItem.CurrentVersion, Files: not null } ? item : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null;
        }
    }

    private static Task WriteManifestAsync(string directory, ExportItem item, CancellationToken cancellationToken) =>
        DurableFiles.WriteAtomicallyAsync(Path.Combine(directory, ManifestName), JsonSerializer.SerializeToUtf8Bytes(item, Json), cancellationToken);

    private static Task WriteReasonAsync(string directory, ExportItem item, CancellationToken cancellationToken)
    {
        var reason = new
        {
            item.Id,
            item.Destination,
            item.CorrelationId,
            Kind = item.Park?.Kind.ToString(),
            item.Park?.Reason,
            item.Park?.ParkedAt,
            item.Attempts,
            Retry = "POST the id to the export retry endpoint (or ExportQueue.RetryAsync) to send it again.",
        };
        return DurableFiles.WriteAtomicallyAsync(Path.Combine(directory, ReasonName), JsonSerializer.SerializeToUtf8Bytes(reason, Json), cancellationToken);
    }

    private static string ItemDirectory(string folder, string id) => Path.Combine(folder, id);

    private static int CountItems(string folder) => Directory.EnumerateDirectories(folder).Count(d => IsItemId(Path.GetFileName(d)));

    private static void CheckItemId(string id)
    {
        if (!IsItemId(id))
        {
            throw new ArgumentException("Not an export item id.", nameof(id));
        }
    }

    private static void CheckCorrelationId(string correlationId)
    {
        if (string.IsNullOrWhiteSpace(correlationId) || correlationId.Length > MaxCorrelationIdLength || correlationId.Any(c => c is < ' ' or > '~'))
        {
            throw new ArgumentException($"The correlation id must be 1-{MaxCorrelationIdLength} printable ASCII characters.", nameof(correlationId));
        }
    }

    private void SignalWork()
    {
        try
        {
            if (_workAvailable.CurrentCount == 0)
            {
                _workAvailable.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled by a concurrent enqueue.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Leftovers under .staging/ and .delivered/ are removed at the next start.
            LogCleanupFailed(Path.GetFileName(directory), ex.Message);
        }
    }

    // \z, not $: $ also matches before a final newline, which would let "id\n" through.
    [GeneratedRegex("^[0-9a-f]{32}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ItemIdPattern();

    [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Export queue at {Root}: {Pending} pending, {Parked} parked")]
    private partial void LogOpened(string root, int pending, int parked);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "Export item {ItemId} queued for {Destination} (correlation {CorrelationId}, {Files} files)")]
    private partial void LogEnqueued(string itemId, string destination, string correlationId, int files);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Warning, Message = "Removed the unfinished export item {ItemId}: its enqueue was interrupted and never confirmed to the caller")]
    private partial void LogStagingRemoved(string itemId);

    [LoggerMessage(EventId = 3503, Level = LogLevel.Error, Message = "Export item {ItemId} has no readable manifest or misses files; moved to damaged/ for inspection")]
    private partial void LogDamagedItem(string itemId);

    [LoggerMessage(EventId = 3504, Level = LogLevel.Information, Message = "Export item {ItemId}: completed the interrupted move to {State}")]
    private partial void LogRecoveredMove(string itemId, ExportItemState state);

    [LoggerMessage(EventId = 3505, Level = LogLevel.Information, Message = "Parked export item {ItemId} for {Destination} put back in the queue")]
    private partial void LogRetried(string itemId, string destination);

    [LoggerMessage(EventId = 3506, Level = LogLevel.Warning, Message = "Could not remove {Name}: {Error}; retried at the next start")]
    private partial void LogCleanupFailed(string name, string error);
}
