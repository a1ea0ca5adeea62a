using System.Globalization;
using Microsoft.Extensions.Logging;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Gateway.Export;

/// <summary>Sends an item's files by C-STORE with <see cref="StorageScu"/> (one association for the files' SOP classes).</summary>
public sealed class DicomStoreSender : IExportSender
{
    private readonly StorageScu _scu;

    public DicomStoreSender(string destinationName, DicomClientOptions clientOptions, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destinationName);
        DestinationName = destinationName;
        _scu = new StorageScu(clientOptions, loggerFactory, time);
    }

    public string DestinationName { get; }

    public async Task<ExportSendResult> SendAsync(string itemId, IReadOnlyList<ExportSendFile> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var results = await _scu.SendAsync(files.Select(f => f.Path), cancellationToken).ConfigureAwait(false);
        var delivered = new List<string>();
        ExportFailure? failure = null;
        for (var i = 0; i < results.Count; i++)
        {
            if (Classify(results[i]) is not { } fileFailure)
            {
                delivered.Add(files[i].Name);
            }
            else if (failure is null || (failure.IsTransient && !fileFailure.IsTransient))
            {
                // A permanent failure wins: the item cannot complete however often the rest is retried.
                failure = fileFailure;
            }
        }
        return new ExportSendResult(delivered, failure);
    }

    /// <summary>
    /// Null when the file was stored; otherwise whether to retry. Transient: no connection, timeouts, aborts, transient
    /// association rejection, 0xA7xx (out of resources), 0x0110 (processing failure) and unknown failure statuses
    /// outside the 01xx/02xx range (bounded by MaxPendingAge). Permanent: permanent association rejection, no accepted
    /// presentation context (SOP class or transfer syntax not supported), 0x0122, 0xA9xx, 0xCxxx, other 01xx/02xx
    /// statuses, and a queued file that cannot be read.
    /// </summary>
    public static ExportFailure? Classify(StoreFileResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Succeeded)
        {
            return null;
        }
        return result.FailureKind switch
        {
            StoreFailureKind.Refused when result.Status is { } status => ClassifyStatus(status),
            StoreFailureKind.NoAcceptedContext => ExportFailure.Permanent("SOP class or transfer syntax not supported by the destination (no presentation context accepted)"),
            StoreFailureKind.FileProblem => ExportFailure.Permanent("The queued file cannot be read or encoded"),
            StoreFailureKind.Network when result.NetworkError is DicomAssociationRejectedException { IsTransient: false } rejected =>
                ExportFailure.Permanent($"Association rejected permanently: {rejected.Reject}"),
            StoreFailureKind.Network when result.NetworkError is DicomAssociationRejectedException rejected =>
                ExportFailure.Transient($"Association rejected transiently: {rejected.Reject}"),
            StoreFailureKind.Network => ExportFailure.Transient(result.NetworkError?.Message ?? result.Error ?? "Network failure"),
            _ => ExportFailure.Transient(result.Error ?? "Not stored"),
        };
    }

    /// <summary>The classification of a C-STORE failure status (PS3.4 B.2.3, PS3.7 C).</summary>
    public static ExportFailure ClassifyStatus(ushort status)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"0x{status:X4}");
        return status switch
        {
            DimseStatus.ProcessingFailure => ExportFailure.Transient($"C-STORE failed with {text} (processing failure)"),
            DimseStatus.SopClassNotSupported => ExportFailure.Permanent($"C-STORE refused with {text} (SOP class not supported)"),
            _ when (status & 0xFF00) == 0xA700 => ExportFailure.Transient($"C-STORE refused with {text} (out of resources)"),
            _ when (status & 0xFF00) == 0xA900 => ExportFailure.Permanent($"C-STORE refused with {text} (data set does not match SOP class)"),
            _ when (status & 0xF000) == 0xC000 => ExportFailure.Permanent($"C-STORE refused with {text} (cannot understand)"),
            _ when (status & 0xFF00) is 0x0100 or 0x0200 => ExportFailure.Permanent($"C-STORE refused with {text}"),
            _ => ExportFailure.Transient($"C-STORE failed with {text}"),
        };
    }
}
