namespace SpineSegDiff.Gateway.Export;

/// <summary>Delivers the files of one export item to one destination.</summary>
public interface IExportSender
{
    /// <summary>The destination's configured name.</summary>
    string DestinationName { get; }

    /// <summary>
    /// Sends <paramref name="files"/> (the item's not yet delivered files). Failures of the destination come back as
    /// <see cref="ExportSendResult.Failure"/>, not as exceptions; cancellation throws <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<ExportSendResult> SendAsync(string itemId, IReadOnlyList<ExportSendFile> files, CancellationToken cancellationToken);
}

/// <summary>One file to send: its name in the item (our own, e.g. "0003.dcm") and where the queued copy is.</summary>
public sealed record ExportSendFile(string Name, string Path);

/// <summary>What one send achieved.</summary>
/// <param name="Delivered">Names of the files the destination confirmed.</param>
/// <param name="Failure">Null when every file was delivered; otherwise the failure that decides what happens next
/// (permanent when any file failed permanently: retrying the rest cannot complete the item).</param>
public sealed record ExportSendResult(IReadOnlyList<string> Delivered, ExportFailure? Failure)
{
    public bool Succeeded => Failure is null;

    public bool IsTransientFailure => Failure is { Kind: ExportFailureKind.Transient };
}
