using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Storage;

/// <summary>
/// The durable instance store: one Part 10 file per instance, exactly as received (meta header + the dataset bytes
/// of the negotiated transfer syntax). Paths are derived from SHA-256 hashes of the study, series and instance UIDs,
/// never from the UID text or AE titles (DCMTK CVE-2022-2119/2120 were path traversals through such names).
/// A transfer streams into a temporary file that is flushed and atomically renamed into place on commit; a failed or
/// aborted transfer deletes its temporary file (fo-dicom #711), and leftovers of a crash are removed at start.
/// </summary>
public sealed partial class InstanceStore : IStorageSink
{
    private const string IncomingFolder = ".incoming";
    private const string InstancesFolder = "instances";
    private const string TempSuffix = ".part";
    private readonly InstanceStoreOptions _options;
    private readonly ILogger<InstanceStore> _logger;

    private readonly IStoredInstanceObserver? _observer;
    private readonly IFreeSpaceProbe _freeSpace;

    public InstanceStore(InstanceStoreOptions options, ILogger<InstanceStore> logger, IStoredInstanceObserver? observer = null, IFreeSpaceProbe? freeSpace = null)
    {
        _observer = observer;
        _freeSpace = freeSpace ?? FileSystemFreeSpaceProbe.Instance;
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }
        _options = options;
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        RootDirectory = Path.GetFullPath(options.RootDirectory);
        IncomingDirectory = Path.Combine(RootDirectory, IncomingFolder);
        InstancesDirectory = Path.Combine(RootDirectory, InstancesFolder);
        Directory.CreateDirectory(IncomingDirectory);
        Directory.CreateDirectory(InstancesDirectory);
        RemoveStaleTemporaryFiles();
    }

    public string RootDirectory { get; }

    /// <summary>Transfers in progress; empty whenever no C-STORE is running.</summary>
    public string IncomingDirectory { get; }

    public string InstancesDirectory { get; }

    public ValueTask<IStoreTransaction> BeginAsync(StoreRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        var tempPath = Path.Combine(IncomingDirectory, Guid.NewGuid().ToString("N") + TempSuffix);
        // Synchronous file I/O on purpose: on Linux "async" file writes are thread-pool hops, and a write into the page
        // cache takes microseconds. Measured with bench-store: the hops cost more than the writes.
        var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.None);
        try
        {
            DicomFile.WriteMeta(stream, DicomFile.CreateMeta(context.SopClassUid, context.SopInstanceUid, context.TransferSyntax, context.CallingAeTitle));
        }
        catch
        {
            stream.Dispose();
            File.Delete(tempPath);
            throw;
        }
        return ValueTask.FromResult<IStoreTransaction>(new Transaction(this, context, tempPath, stream));
    }

    /// <summary>
    /// Free space against <see cref="InstanceStoreOptions.MinimumFreeDiskMegabytes"/>, measured now (one statvfs call:
    /// cheap enough per association, and never stale). When it cannot be measured the store is taken as available:
    /// a real write failure still answers 0xA700.
    /// </summary>
    public StorageCapacity CheckCapacity()
    {
        if (_options.MinimumFreeDiskMegabytes == 0)
        {
            return StorageCapacity.Unlimited;
        }
        var minimum = _options.MinimumFreeDiskMegabytes << 20;
        var available = _freeSpace.AvailableBytes(RootDirectory);
        if (available is null)
        {
            LogFreeSpaceUnknown();
            return new StorageCapacity(true, -1, minimum);
        }
        return new StorageCapacity(available.Value >= minimum, available.Value, minimum);
    }

    /// <summary>The file an instance is (or would be) stored at.</summary>
    public string PathFor(string studyInstanceUid, string seriesInstanceUid, string sopInstanceUid)
    {
        var study = Hash(studyInstanceUid);
        return Path.Combine(InstancesDirectory, study[..2], study, Hash(seriesInstanceUid), Hash(sopInstanceUid) + ".dcm");
    }

    /// <summary>Every stored instance file.</summary>
    public IEnumerable<string> EnumerateInstanceFiles() =>
        Directory.Exists(InstancesDirectory)
            ? Directory.EnumerateFiles(InstancesDirectory, "*.dcm", SearchOption.AllDirectories)
            : [];

    /// <summary>32 hex digits of SHA-256: fixed-length, path-safe names that reveal nothing of the UID.</summary>
    internal static string Hash(string uid) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(uid.TrimEnd('\0', ' '))))[..32];

    private void RemoveStaleTemporaryFiles()
    {
        foreach (var stale in Directory.EnumerateFiles(IncomingDirectory, "*" + TempSuffix))
        {
            try
            {
                File.Delete(stale);
                LogStaleTemporaryFileRemoved(Path.GetFileName(stale));
            }
            catch (IOException ex)
            {
                LogStaleTemporaryFileNotRemoved(Path.GetFileName(stale), ex.Message);
            }
        }
    }

    private StoreOutcome Commit(Transaction transaction, CancellationToken cancellationToken)
    {
        var context = transaction.Context;
        DicomDataset header;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            transaction.Stream.Flush();
            transaction.Stream.Position = 0;
            header = DicomFile.Read(transaction.Stream, DicomReadOptions.HeaderOnly).Dataset;
        }
        catch (DicomFormatException ex)
        {
            LogUndecodableInstance(context.AssociationId, ex.Offset, ex.Tag?.ToString() ?? "-");
            return new StoreOutcome(DimseStatus.CannotUnderstand, "The dataset could not be decoded");
        }
        var study = header.GetString(new DicomTag(0x0020, 0x000D));
        var series = header.GetString(new DicomTag(0x0020, 0x000E));
        var instance = header.GetString(new DicomTag(0x0008, 0x0018));
        if (!DicomUids.IsValid(study) || !DicomUids.IsValid(series) || !DicomUids.IsValid(instance))
        {
            LogMissingIdentifiers(context.AssociationId);
            return new StoreOutcome(DimseStatus.CannotUnderstand, "Study, Series or SOP Instance UID missing or invalid");
        }
        if (!string.Equals(instance, context.SopInstanceUid.TrimEnd('\0', ' '), StringComparison.Ordinal))
        {
            LogInstanceUidMismatch(context.AssociationId);
            return new StoreOutcome(DimseStatus.DataSetDoesNotMatchSopClass, "SOP Instance UID differs from the C-STORE request");
        }

        if (_options.FlushToDisk)
        {
            transaction.Stream.Flush(flushToDisk: true);
        }
        transaction.Stream.Dispose();

        var target = PathFor(study!, series!, instance!);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            try
            {
                File.Move(transaction.TempPath, target, overwrite: false);
            }
            catch (DirectoryNotFoundException)
            {
                // Retention removed the (then empty or expired) series folder between the two calls: make it again.
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(transaction.TempPath, target, overwrite: false);
            }
        }
        catch (IOException) when (File.Exists(target))
        {
            // Same instance sent twice (a PACS retry, or two associations racing): the first copy wins, the sender
            // gets Success because the instance is safely here.
            File.Delete(transaction.TempPath);
            LogDuplicateInstance(context.AssociationId, Path.GetFileName(target));
            Notify(new StoredInstance(target, study!, series!, instance!, header, context, Duplicate: true));
            return new StoreOutcome(DimseStatus.Success, null, Duplicate: true);
        }
        LogInstanceStored(context.AssociationId, Path.GetFileName(target));
        Notify(new StoredInstance(target, study!, series!, instance!, header, context, Duplicate: false));
        return StoreOutcome.Success;
    }

    /// <summary>
    /// The instance is durable before observers hear of it; an observer's failure is logged and does not turn a stored
    /// instance into a failed C-STORE (the sender would resend what we already have).
    /// </summary>
    private void Notify(StoredInstance stored)
    {
        if (_observer is null)
        {
            return;
        }
        try
        {
            _observer.OnStored(stored);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogObserverFailed(stored.Context.AssociationId, ex.GetType().Name, ex.Message);
        }
    }

    private sealed class Transaction(InstanceStore store, StoreRequestContext context, string tempPath, FileStream stream) : IStoreTransaction
    {
        private bool _committed;

        public StoreRequestContext Context { get; } = context;

        public string TempPath { get; } = tempPath;

        public FileStream Stream { get; } = stream;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> datasetBytes, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Stream.Write(datasetBytes.Span);
            return ValueTask.CompletedTask;
        }

        public ValueTask<StoreOutcome> CommitAsync(CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            var outcome = store.Commit(this, cancellationToken);
            _committed = outcome.Status == DimseStatus.Success;
            return ValueTask.FromResult(outcome);
        }

        public ValueTask DisposeAsync()
        {
            Stream.Dispose();
            if (!_committed && File.Exists(TempPath))
            {
                File.Delete(TempPath);
                store.LogTransferDiscarded(Context.AssociationId);
            }
            return ValueTask.CompletedTask;
        }
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "Association {AssociationId}: instance stored as {FileName}")]
    private partial void LogInstanceStored(long associationId, string fileName);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Association {AssociationId}: duplicate instance ignored, kept the stored copy {FileName}")]
    private partial void LogDuplicateInstance(long associationId, string fileName);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Association {AssociationId}: received dataset could not be decoded (byte {Offset}, tag {Tag}); answered 0xC000")]
    private partial void LogUndecodableInstance(long associationId, long offset, string tag);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Association {AssociationId}: received dataset lacks valid Study, Series or SOP Instance UIDs; answered 0xC000")]
    private partial void LogMissingIdentifiers(long associationId);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Association {AssociationId}: SOP Instance UID in the dataset differs from the C-STORE request; answered 0xA900")]
    private partial void LogInstanceUidMismatch(long associationId);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Association {AssociationId}: incomplete transfer discarded")]
    private partial void LogTransferDiscarded(long associationId);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "Removed stale temporary file {FileName} left by an interrupted transfer")]
    private partial void LogStaleTemporaryFileRemoved(string fileName);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Could not remove stale temporary file {FileName}: {Reason}")]
    private partial void LogStaleTemporaryFileNotRemoved(string fileName, string reason);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "The free space of the store's file system could not be measured; the disk guard lets the association through")]
    private partial void LogFreeSpaceUnknown();

    [LoggerMessage(EventId = 2008, Level = LogLevel.Error, Message = "Association {AssociationId}: the stored-instance observer failed ({ExceptionType}: {Reason}); the instance is stored")]
    private partial void LogObserverFailed(long associationId, string exceptionType, string reason);
}
