using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Export;

namespace SpineSegDiff.Gateway.Retention;

/// <summary>What one retention pass did.</summary>
/// <param name="SeriesRemoved">Received series folders removed.</param>
/// <param name="FilesRemoved">Instance files in them.</param>
/// <param name="ResultsRemoved">Result folders removed.</param>
/// <param name="SeriesKeptAssembling">Expired series kept because the assembler still collects them.</param>
/// <param name="ResultsKeptForExport">Expired results kept because an export of theirs is pending or parked.</param>
/// <param name="Failures">Folders that could not be removed (tried again next pass).</param>
public sealed record RetentionPassResult(int SeriesRemoved, int FilesRemoved, int ResultsRemoved, int SeriesKeptAssembling, int ResultsKeptForExport, int Failures);

/// <summary>
/// Keeps the store from growing without bound: received series (including those no rule routed) are removed
/// <see cref="RetentionOptions.ReceivedInstances"/> after their newest instance arrived, results
/// <see cref="RetentionOptions.Results"/> after they were written. A series the assembler still collects and a result
/// whose export is pending or parked (the operator may still retry it) are never removed. Ages come from file
/// modification times, which the store sets at receipt, so a restart does not reset them.
/// </summary>
public sealed partial class RetentionService(
    InstanceStore store,
    SeriesAssembler assembler,
    ExportQueue exports,
    RetentionOptions options,
    ILogger<RetentionService> logger,
    TimeProvider? time = null) : BackgroundService
{
    /// <summary>Where workers put results in the shared store (SpineSegDiff.Worker.ResultStore.ResultsFolder).</summary>
    public const string ResultsFolder = "results";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first pass walks the store synchronously; the host's start must not wait for it.
        await Task.Yield();
        using var timer = new PeriodicTimer(options.ScanInterval, _time);
        do
        {
            try
            {
                RunOnce(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A failing disk under the store: the next pass tries again; nothing is lost by waiting.
                LogPassFailed(ex.GetType().Name, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One pass over the store (also called by tests).</summary>
    public RetentionPassResult RunOnce(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var (seriesRemoved, filesRemoved, keptAssembling, seriesFailures) = RemoveExpiredSeries((now - options.ReceivedInstances).UtcDateTime, cancellationToken);
        var (resultsRemoved, keptForExport, resultFailures) = RemoveExpiredResults((now - options.Results).UtcDateTime, cancellationToken);
        var result = new RetentionPassResult(seriesRemoved, filesRemoved, resultsRemoved, keptAssembling, keptForExport, seriesFailures + resultFailures);
        var quiet = result == new RetentionPassResult(0, 0, 0, 0, 0, 0);
        LogPass(quiet ? LogLevel.Debug : LogLevel.Information, result.SeriesRemoved, result.FilesRemoved, options.ReceivedInstances, result.ResultsRemoved,
            options.Results, result.SeriesKeptAssembling, result.ResultsKeptForExport, result.Failures);
        return result;
    }

    private (int Series, int Files, int KeptAssembling, int Failures) RemoveExpiredSeries(DateTime cutoff, CancellationToken cancellationToken)
    {
        int series = 0, files = 0, kept = 0, failures = 0;
        var assembling = assembler.PendingSeriesDirectories();
        // instances/<2 hex>/<study hash>/<series hash>/<instance hash>.dcm: the layout InstanceStore.PathFor writes.
        foreach (var prefix in Subdirectories(store.InstancesDirectory))
        {
            foreach (var study in Subdirectories(prefix))
            {
                var removedHere = false;
                foreach (var folder in Subdirectories(study))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    try
                    {
                        var instances = Directory.GetFiles(folder);
                        if (Newest(folder, instances) > cutoff)
                        {
                            continue;
                        }
                        if (assembling.Contains(folder))
                        {
                            kept++;
                            continue;
                        }
                        // Only the files seen above: an instance arriving now (a resend) stays, and so does its folder.
                        foreach (var instance in instances)
                        {
                            File.Delete(instance);
                            files++;
                        }
                        DeleteIfEmpty(folder);
                        series++;
                        removedHere = true;
                        LogSeriesRemoved(Relative(folder), instances.Length);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        failures++;
                        LogRemoveFailed(Relative(folder), ex.Message);
                    }
                }
                if (removedHere)
                {
                    TryDeleteIfEmpty(study);
                    TryDeleteIfEmpty(prefix);
                }
            }
        }
        return (series, files, kept, failures);
    }

    private (int Removed, int KeptForExport, int Failures) RemoveExpiredResults(DateTime cutoff, CancellationToken cancellationToken)
    {
        int removed = 0, kept = 0, failures = 0;
        var root = Path.Combine(store.RootDirectory, ResultsFolder);
        if (!Directory.Exists(root))
        {
            return (0, 0, 0);
        }
        HashSet<Guid>? awaitingExport = null;
        foreach (var folder in Subdirectories(root))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Result folders are named by the job's correlation id; anything else there is not ours to remove.
            if (!Guid.TryParseExact(Path.GetFileName(folder), "N", out var correlationId))
            {
                continue;
            }
            try
            {
                if (Newest(folder, Directory.GetFiles(folder, "*", SearchOption.AllDirectories)) > cutoff)
                {
                    continue;
                }
                // Read only when something expired: listing the queue reads every manifest.
                awaitingExport ??= PendingExportIds();
                if (awaitingExport.Contains(correlationId))
                {
                    kept++;
                    continue;
                }
                Directory.Delete(folder, recursive: true);
                removed++;
                LogResultRemoved(correlationId);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failures++;
                LogRemoveFailed(Relative(folder), ex.Message);
            }
        }
        return (removed, kept, failures);
    }

    /// <summary>Correlation ids of exports not yet delivered: pending, or parked for the operator to retry.</summary>
    private HashSet<Guid> PendingExportIds() =>
        exports.ListPending().Concat(exports.ListParked())
            .Select(item => Guid.TryParse(item.CorrelationId, out var id) ? id : Guid.Empty)
            .Where(id => id != Guid.Empty)
            .ToHashSet();

    private static DateTime Newest(string folder, string[] files) =>
        files.Length == 0 ? Directory.GetLastWriteTimeUtc(folder) : files.Max(File.GetLastWriteTimeUtc);

    private static IEnumerable<string> Subdirectories(string directory) =>
        Directory.Exists(directory) ? Directory.GetDirectories(directory) : [];

    private static void DeleteIfEmpty(string directory)
    {
        if (!Directory.EnumerateFileSystemEntries(directory).Any())
        {
            Directory.Delete(directory);
        }
    }

    private void TryDeleteIfEmpty(string directory)
    {
        try
        {
            DeleteIfEmpty(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Something arrived in it meanwhile, or it is already gone: either way it is not ours to remove now.
            LogRemoveFailed(Relative(directory), ex.Message);
        }
    }

    private string Relative(string path) => Path.GetRelativePath(store.RootDirectory, path);

    [LoggerMessage(EventId = 3440, Message = "Retention: removed {Series} received series ({Files} files) older than {ReceivedInstances} and {Results} results older than {ResultsPeriod}; kept {Assembling} expired series still being assembled and {AwaitingExport} expired results with exports pending; {Failures} could not be removed")]
    private partial void LogPass(LogLevel level, int series, int files, TimeSpan receivedInstances, int results, TimeSpan resultsPeriod, int assembling, int awaitingExport, int failures);

    [LoggerMessage(EventId = 3441, Level = LogLevel.Debug, Message = "Retention removed series folder {Folder} ({Files} files)")]
    private partial void LogSeriesRemoved(string folder, int files);

    [LoggerMessage(EventId = 3442, Level = LogLevel.Debug, Message = "Retention removed the results of {CorrelationId}")]
    private partial void LogResultRemoved(Guid correlationId);

    [LoggerMessage(EventId = 3443, Level = LogLevel.Warning, Message = "Retention could not remove {Folder}: {Reason}; tried again next pass")]
    private partial void LogRemoveFailed(string folder, string reason);

    [LoggerMessage(EventId = 3444, Level = LogLevel.Error, Message = "Retention pass failed ({ExceptionType}: {Reason}); tried again at the next scan")]
    private partial void LogPassFailed(string exceptionType, string reason);
}
