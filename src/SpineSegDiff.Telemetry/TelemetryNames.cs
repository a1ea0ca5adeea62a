namespace SpineSegDiff.Telemetry;

/// <summary>
/// The names the node's services emit under: one ActivitySource and one Meter per service, plus MassTransit's own
/// source, which carries the trace context across the bus (gateway and worker processes share one trace per study).
/// The host subscribes to exactly these.
/// </summary>
public static class TelemetryNames
{
    /// <summary>Storage SCP: associations and C-STORE (src/SpineSegDiff.Dicom, which defines its own constant with this value).</summary>
    public const string Dicom = "SpineSegDiff.Dicom";

    /// <summary>Series assembly, routing, result intake and export (ExportMetrics uses the same Meter name).</summary>
    public const string Gateway = "SpineSegDiff.Gateway";

    /// <summary>Segmentation jobs and their stages.</summary>
    public const string Worker = "SpineSegDiff.Worker";

    /// <summary>MassTransit 8's ActivitySource (send, publish, receive, consume spans; W3C trace context in the headers).</summary>
    public const string MassTransit = "MassTransit";

    public static IReadOnlyList<string> Sources { get; } = [Dicom, Gateway, Worker, MassTransit];

    public static IReadOnlyList<string> Meters { get; } = [Dicom, Gateway, Worker];

    /// <summary>Prefix of every audit event (span events), so a query for "audit.*" finds them all.</summary>
    public const string AuditPrefix = "audit.";
}

/// <summary>Attribute keys shared by spans, span events and metrics.</summary>
public static class TelemetryAttributes
{
    public const string CorrelationId = "spineseg.correlation_id";
    public const string StudyUid = "dicom.study_instance_uid";
    public const string SeriesUid = "dicom.series_instance_uid";
    public const string SopInstanceUid = "dicom.sop_instance_uid";
    public const string CallingAeTitle = "dicom.calling_ae_title";
    public const string CalledAeTitle = "dicom.called_ae_title";
    public const string PeerAddress = "network.peer.address";
    public const string Rule = "spineseg.rule";
    public const string Profile = "spineseg.profile";
    public const string Destination = "spineseg.destination";
    public const string ModelVersions = "spineseg.model_versions";
    public const string Reason = "spineseg.reason";
    public const string Instances = "spineseg.instances";
    public const string PatientName = "dicom.patient_name";
    public const string PatientId = "dicom.patient_id";
    public const string PatientBirthDate = "dicom.patient_birth_date";
    public const string AccessionNumber = "dicom.accession_number";
}
