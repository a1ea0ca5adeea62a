using System.Text.Json.Nodes;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.SecondaryCapture;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results.Tests.Support;

/// <summary>Everything we write for the phantom study: the BINARY SEG, the FRACTIONAL SEG and both SC series, all slices.</summary>
public sealed record PhantomResults(SourceSeries Source, WrittenSeg Seg, string FractionalSegPath, IReadOnlyList<string> HeatmapScPaths, IReadOnlyList<string> OverlayScPaths)
{
    public string StudyInstanceUid => DicomFile.Open(Source.Files[0]).Dataset.GetString(DicomTags.StudyInstanceUID)!;

    public IEnumerable<string> AllResultFiles => [Seg.Path, FractionalSegPath, .. HeatmapScPaths, .. OverlayScPaths];

    public static PhantomResults Write(SeriesFixture series, string directory)
    {
        var source = series.Phantom;
        var seg = WrittenSeg.Write(series, "phantom-all", directory);
        var map = WrittenResults.Uncertainty(source);
        var (_, fractional) = WrittenResults.WriteUncertaintySeg(source, map, SourceSliceSelection.All, directory);
        var writer = new SecondaryCaptureWriter();
        var heatmaps = writer.WriteUncertaintyHeatmap(source.Instances(), map, SourceSliceSelection.All)
            .Select(i => WrittenResults.WriteScs(i, directory, "heatmap").Path).ToList();
        var overlays = writer.WriteSegmentationOverlay(source.Instances(), source.Labels, SourceSliceSelection.All)
            .Select(i => WrittenResults.WriteScs(i, directory, "overlay").Path).ToList();
        return new PhantomResults(source, seg, fractional, heatmaps, overlays);
    }

    /// <summary>
    /// Orthanc with DICOMweb for a viewer behind a same-origin proxy: no fixed DicomWeb Host, so the plugin takes
    /// the request's Host header (the proxy's) for the bulk-data URLs it writes, and those lead back to the proxy.
    /// </summary>
    public static Task<OrthancServer> StartOrthancAsync() => OrthancServer.StartAsync(new OrthancOptions
    {
        ExtraConfiguration = new Dictionary<string, JsonNode?>
        {
            ["DicomWeb"] = new JsonObject
            {
                ["Enable"] = true,
                ["Root"] = "/dicom-web/",
                ["EnableWado"] = true,
                ["WadoRoot"] = "/wado",
                ["Ssl"] = false,
            },
        },
    });

    /// <summary>C-STORE with our own SCU, which proposes each file's SOP class from its meta header.</summary>
    public static async Task<IReadOnlyList<StoreFileResult>> StoreAsync(OrthancServer orthanc, IEnumerable<string> files)
    {
        var scu = new StorageScu(new DicomClientOptions
        {
            CallingAeTitle = "SPINESEG",
            CalledAeTitle = orthanc.AeTitle,
            Host = orthanc.Host,
            Port = orthanc.DicomPort,
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        return await scu.SendAsync(files, cts.Token);
    }
}
