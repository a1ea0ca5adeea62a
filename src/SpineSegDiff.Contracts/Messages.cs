namespace SpineSegDiff.Contracts.V1;

// Version 1 of the node's bus messages. Records only, no behaviour and no dependencies, so every service (and a
// site's own tooling) can reference them. Messages carry references into the shared store (paths relative to the
// store root), never pixel data. A breaking change goes into a V2 namespace beside this one; MassTransit routes by the
// full type name, so old and new consumers can run side by side during an upgrade.

/// <summary>A complete series matched a routing rule: segment it.</summary>
/// <param name="CorrelationId">One id for the study's whole journey (logs, traces, results folder, exports).</param>
/// <param name="InstancePaths">The series' instance files, relative to the store root.</param>
/// <param name="Profile">Inference profile name (paper, fast, presegmentation).</param>
/// <param name="Destinations">Export destination names for the results.</param>
public sealed record SegmentationRequested(
    Guid CorrelationId,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    IReadOnlyList<string> InstancePaths,
    string RuleName,
    string Profile,
    IReadOnlyList<string> Destinations,
    string CallingAeTitle,
    DateTimeOffset ReceivedAt,
    DateTimeOffset RequestedAt);

/// <summary>One DICOM object of a result, in the shared store.</summary>
/// <param name="Kind">Segmentation, UncertaintySegmentation, HeatmapSecondaryCapture or OverlaySecondaryCapture.</param>
/// <param name="Path">Relative to the store root.</param>
public sealed record ResultObjectReference(string Kind, string Path, string SopClassUid, string SeriesInstanceUid, string SopInstanceUid);

/// <summary>A series was segmented; its result objects are in the store.</summary>
/// <param name="ModelVersions">Model name to version, from the model cards.</param>
/// <param name="StageSeconds">Seconds per stage (load, preprocessing, presegmentation, image encoder, denoiser, writing...).</param>
/// <param name="PreviewPaths">PNG previews (overlay, heatmap), relative to the store root.</param>
public sealed record SegmentationCompleted(
    Guid CorrelationId,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    IReadOnlyList<ResultObjectReference> Results,
    IReadOnlyList<string> PreviewPaths,
    IReadOnlyDictionary<string, string> ModelVersions,
    string Profile,
    IReadOnlyDictionary<string, double> StageSeconds,
    IReadOnlyList<string> Destinations,
    DateTimeOffset CompletedAt);

/// <summary>A series could not be segmented. <paramref name="Reason"/> holds no patient data.</summary>
/// <param name="Kind">UnsupportedSeries (the input: no retry helps), MissingInstances, or Error.</param>
public sealed record SegmentationFailed(
    Guid CorrelationId,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string Kind,
    string Reason,
    DateTimeOffset FailedAt);

/// <summary>
/// A radiologist's corrected SEG arrived for a study we segmented (for the retraining service; declared now so
/// the gateway and the trainer agree on it).
/// </summary>
public sealed record AnnotatedStudyReceived(
    Guid CorrelationId,
    string StudyInstanceUid,
    string SourceSeriesInstanceUid,
    string SegmentationPath,
    IReadOnlyList<string> SourceInstancePaths,
    DateTimeOffset ReceivedAt);

/// <summary>The retraining service promoted a model version; workers load it for their next job.</summary>
public sealed record ModelPromoted(string ModelName, string Version, string ModelPath, DateTimeOffset PromotedAt);
