using System.Text.Json;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Tests.Support;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Viewer;

/// <summary>
/// Orthanc, the PACS the viewer reads from, takes every object we write by C-STORE from our own SCU and lists the
/// SEG and SC series under the source study through DICOMweb QIDO, which is how OHIF finds them.
/// </summary>
[Collection(SeriesCollection.Name)]
public sealed class OrthancDicomWebTests(SeriesFixture series, ITestOutputHelper output)
{
    [Fact]
    public async Task Orthanc_stores_every_object_from_our_scu_and_qido_lists_the_result_series_under_the_study()
    {
        using var temp = new TempDirectory();
        var results = PhantomResults.Write(series, temp.Path);
        await using var orthanc = await PhantomResults.StartOrthancAsync();

        string[] files = [.. results.Source.Files, .. results.AllResultFiles];
        var stored = await PhantomResults.StoreAsync(orthanc, files);
        stored.Should().HaveCount(files.Length);
        stored.Where(r => r.Status != 0x0000).Should().BeEmpty("Orthanc must answer Success (0000) to every C-STORE");
        (await orthanc.CountInstancesAsync()).Should().Be(files.Length);
        output.WriteLine($"{files.Length} instances stored: {results.Source.Files.Count} MR, 2 SEG, {results.HeatmapScPaths.Count} + {results.OverlayScPaths.Count} SC");

        using var response = await orthanc.Http.GetAsync(new Uri(orthanc.DicomWebUri, $"studies/{results.StudyInstanceUid}/series"));
        var body = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(body);
        using var qido = JsonDocument.Parse(body);
        var listed = qido.RootElement.EnumerateArray().Select(s => new
        {
            Uid = Value(s, "0020000E"),
            Modality = Value(s, "00080060"),
            Description = Value(s, "0008103E"),
            Instances = Value(s, "00201209"),
        }).ToList();
        foreach (var s in listed)
        {
            output.WriteLine($"QIDO series {s.Modality} '{s.Description}' ({s.Instances} instances) {s.Uid}");
        }

        var expected = new[]
        {
            (Path: results.Seg.Path, Modality: "SEG", Description: "AI segmentation - spinal canal, vertebrae, discs", Count: 1),
            (Path: results.FractionalSegPath, Modality: "SEG", Description: "AI uncertainty (fractional SEG) - not for diagnosis", Count: 1),
            (Path: results.HeatmapScPaths[0], Modality: "OT", Description: "AI uncertainty heatmap - not for diagnosis", Count: results.HeatmapScPaths.Count),
            (Path: results.OverlayScPaths[0], Modality: "OT", Description: "AI segmentation overlay - not for diagnosis", Count: results.OverlayScPaths.Count),
        };
        listed.Should().HaveCount(expected.Length + 1, "the MR series and the four result series");
        foreach (var e in expected)
        {
            var uid = DicomFile.Open(e.Path).Dataset.GetString(DicomTags.SeriesInstanceUID);
            var match = listed.Should().ContainSingle(s => s.Uid == uid, $"QIDO lists the {e.Description} series").Subject;
            match.Modality.Should().Be(e.Modality);
            match.Description.Should().Be(e.Description);
            match.Instances.Should().Be(e.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>First value of a DICOM JSON attribute, as text.</summary>
    private static string? Value(JsonElement dataset, string tag) =>
        dataset.TryGetProperty(tag, out var attribute) && attribute.TryGetProperty("Value", out var values) && values.GetArrayLength() > 0
            ? values[0].ValueKind == JsonValueKind.String ? values[0].GetString() : values[0].GetRawText()
            : null;
}
