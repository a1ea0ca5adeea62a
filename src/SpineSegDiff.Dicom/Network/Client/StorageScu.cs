using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Dicom.IO;

namespace SpineSegDiff.Dicom.Network;

/// <summary>
/// Storage SCU: sends Part 10 files by C-STORE. Only each file's meta header is read up front; a file whose own
/// transfer syntax the peer accepted is streamed from disk unchanged (no decode), other uncompressed files are decoded
/// and re-encoded to an accepted uncompressed syntax. One file's problem (unreadable, no accepted context, refused)
/// is reported for that file and the others still go.
/// </summary>
public sealed class StorageScu
{
    /// <summary>New associations opened for the rest of a batch after one broke mid-transfer.</summary>
    private const int MaxReassociationsPerBatch = 2;

    private static readonly DicomTransferSyntax[] ReencodePreference =
    [
        DicomTransferSyntax.ExplicitVRLittleEndian,
        DicomTransferSyntax.ImplicitVRLittleEndian,
        DicomTransferSyntax.DeflatedExplicitVRLittleEndian,
    ];

    private readonly AssociationRequester _requester;
    private readonly ILogger _logger;

    public StorageScu(DicomClientOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        _requester = new AssociationRequester(options, loggerFactory, time);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<StorageScu>();
    }

    /// <summary>Sends the files; returns one result per file, in the order given.</summary>
    public async Task<IReadOnlyList<StoreFileResult>> SendAsync(IEnumerable<string> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var paths = files.ToList();
        var results = new StoreFileResult?[paths.Count];
        var outgoing = new List<OutgoingFile>();
        for (var i = 0; i < paths.Count; i++)
        {
            NetworkLog.FilePath(_logger, i, paths[i]);
            try
            {
                outgoing.Add(Describe(i, paths[i]));
            }
            catch (Exception ex) when (ex is DicomFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
            {
                results[i] = Failed(i, paths[i], null, "Unreadable DICOM file", ex.Message) with { FailureKind = StoreFailureKind.FileProblem };
            }
        }

        foreach (var plan in PresentationContextPlanner.Plan(outgoing))
        {
            await SendBatchAsync(plan, results, cancellationToken).ConfigureAwait(false);
        }

        var o = _requester.Options;
        var final = results.Select((r, i) => r ?? Failed(i, paths[i], null, "Not sent") with { FailureKind = StoreFailureKind.Network }).ToList();
        NetworkLog.BatchSent(_logger, final.Count(r => r.Succeeded), final.Count, final.Count(r => !r.Succeeded), o.CalledAeTitle, o.Host, o.Port);
        return final;
    }

    private async Task SendBatchAsync(AssociationPlan plan, StoreFileResult?[] results, CancellationToken cancellationToken)
    {
        var o = _requester.Options;
        var queue = new Queue<OutgoingFile>(plan.Files);
        var associations = 0;
        DicomNetworkException? lastNetworkError = null;
        while (queue.Count > 0)
        {
            if (associations > MaxReassociationsPerBatch)
            {
                FailAll(queue, results, "Not sent: the association kept failing", lastNetworkError);
                return;
            }
            associations++;
            DicomClientAssociation association;
            try
            {
                association = await _requester.RequestAsync(plan.Contexts, cancellationToken).ConfigureAwait(false);
            }
            catch (DicomNetworkException ex)
            {
                FailAll(queue, results, ex.Message, ex);
                return;
            }
            await using (association.ConfigureAwait(false))
            {
                while (queue.Count > 0)
                {
                    var file = queue.Dequeue();
                    try
                    {
                        results[file.Index] = await SendFileAsync(association, file, cancellationToken).ConfigureAwait(false);
                    }
                    catch (DicomNetworkException ex)
                    {
                        lastNetworkError = ex;
                        results[file.Index] = Failed(file.Index, file.Path, file.SopInstanceUid, ex.Message) with
                        {
                            FailureKind = StoreFailureKind.Network,
                            NetworkError = ex,
                        };
                        if (queue.Count > 0)
                        {
                            NetworkLog.AssociationFailedDuringTransfer(_logger, o.Host, o.Port, queue.Count, ex.Message);
                        }
                        break;
                    }
                }
                if (association.IsUsable)
                {
                    await association.ReleaseAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task<StoreFileResult> SendFileAsync(DicomClientAssociation association, OutgoingFile file, CancellationToken cancellationToken)
    {
        var own = association.FindContext(file.SopClassUid, file.TransferSyntax);
        if (own is not null && file.DatasetLength % 2 == 0)
        {
            NetworkLog.StoreSending(_logger, file.SopInstanceUid, own.Id, own.TransferSyntax.Uid, "streamed");
            DimseCommand response;
            var stream = OpenDataset(file, out var openError);
            if (stream is null)
            {
                return Failed(file.Index, file.Path, file.SopInstanceUid, "Cannot open the file", openError) with { FailureKind = StoreFailureKind.FileProblem };
            }
            await using (stream.ConfigureAwait(false))
            {
                response = await association.StoreAsync(own.Id, file.SopClassUid, file.SopInstanceUid, stream, file.DatasetLength, cancellationToken).ConfigureAwait(false);
            }
            return FromResponse(file, response);
        }

        if (file.TransferSyntax.IsEncapsulated)
        {
            return Failed(file.Index, file.Path, file.SopInstanceUid,
                $"The peer did not accept {file.TransferSyntax.Name} for this SOP class and this node has no codec to decompress it") with
            {
                FailureKind = StoreFailureKind.NoAcceptedContext,
            };
        }
        var target = association.FindContext(file.SopClassUid, ReencodePreference);
        if (target is null)
        {
            return Failed(file.Index, file.Path, file.SopInstanceUid, $"The peer accepted no presentation context for SOP class {file.SopClassUid}") with
            {
                FailureKind = StoreFailureKind.NoAcceptedContext,
            };
        }
        byte[] encoded;
        try
        {
            encoded = Reencode(file, target.TransferSyntax);
        }
        catch (Exception ex) when (ex is DicomFormatException or IOException or UnauthorizedAccessException or InvalidDataException or NotSupportedException)
        {
            return Failed(file.Index, file.Path, file.SopInstanceUid, $"Cannot re-encode to {target.TransferSyntax.Name}", ex.Message) with { FailureKind = StoreFailureKind.FileProblem };
        }
        NetworkLog.StoreSending(_logger, file.SopInstanceUid, target.Id, target.TransferSyntax.Uid, "re-encoded");
        var reencodedResponse = await association.StoreAsync(target.Id, file.SopClassUid, file.SopInstanceUid, encoded, cancellationToken).ConfigureAwait(false);
        return FromResponse(file, reencodedResponse);
    }

    private static FileStream? OpenDataset(OutgoingFile file, out string? error)
    {
        try
        {
            var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            if (stream.Length != file.DatasetOffset + file.DatasetLength)
            {
                stream.Dispose();
                error = "it changed after its header was read";
                return null;
            }
            stream.Position = file.DatasetOffset;
            error = null;
            return stream;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>Reads the meta header only: SOP class, instance and transfer syntax, and where the dataset starts.</summary>
    private static OutgoingFile Describe(int index, string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        var meta = DicomFile.ReadMeta(stream, DicomReadOptions.Default, out var datasetOffset);
        var sopClass = meta.GetString(new DicomTag(0x0002, 0x0002));
        var sopInstance = meta.GetString(new DicomTag(0x0002, 0x0003));
        var syntaxUid = meta.GetString(new DicomTag(0x0002, 0x0010));
        if (string.IsNullOrEmpty(sopClass) || string.IsNullOrEmpty(sopInstance) || string.IsNullOrEmpty(syntaxUid))
        {
            throw new DicomFormatException("File Meta Information lacks the media storage SOP class, instance or transfer syntax UID", datasetOffset);
        }
        return new OutgoingFile(index, path, sopClass, sopInstance, DicomTransferSyntax.FromUid(syntaxUid), datasetOffset, stream.Length - datasetOffset);
    }

    private static byte[] Reencode(OutgoingFile file, DicomTransferSyntax target)
    {
        var dicomFile = DicomFile.Open(file.Path);
        var bytes = DicomDatasetWriter.ToBytes(dicomFile.Dataset, target);
        if (bytes.Length % 2 != 0)
        {
            // A deflate stream has any length; PDV fragments must be even, so pad with one NUL (as PS3.5 A.5 allows).
            Array.Resize(ref bytes, bytes.Length + 1);
        }
        return bytes;
    }

    private StoreFileResult FromResponse(OutgoingFile file, DimseCommand response)
    {
        var status = response.Status ?? DimseStatus.ProcessingFailure;
        if (StoreStatus.IsStored(status))
        {
            return new StoreFileResult(file.Path, file.SopInstanceUid, status, null);
        }
        var error = string.Create(CultureInfo.InvariantCulture, $"C-STORE refused with status 0x{status:X4}") +
            (response.ErrorComment is { } comment ? $": {comment}" : string.Empty);
        NetworkLog.FileNotSent(_logger, file.Index, error);
        return new StoreFileResult(file.Path, file.SopInstanceUid, status, error) { FailureKind = StoreFailureKind.Refused };
    }

    /// <summary>
    /// A file that was not stored. <paramref name="detail"/> (exception text, which may quote a path with a patient's
    /// name in it) goes to the caller's result only, never to the log.
    /// </summary>
    private StoreFileResult Failed(int index, string path, string? sopInstanceUid, string error, string? detail = null)
    {
        NetworkLog.FileNotSent(_logger, index, error);
        return new StoreFileResult(path, sopInstanceUid, null, detail is null ? error : $"{error}: {detail}");
    }

    private void FailAll(Queue<OutgoingFile> queue, StoreFileResult?[] results, string error, DicomNetworkException? cause)
    {
        while (queue.Count > 0)
        {
            var file = queue.Dequeue();
            results[file.Index] = Failed(file.Index, file.Path, file.SopInstanceUid, error) with
            {
                FailureKind = StoreFailureKind.Network,
                NetworkError = cause,
            };
        }
    }
}
