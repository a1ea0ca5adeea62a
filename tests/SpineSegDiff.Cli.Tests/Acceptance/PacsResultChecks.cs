using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>What the hospital gets back, checked on the PACS's own copies of the node's results.</summary>
internal static class PacsResultChecks
{
    /// <summary>
    /// Downloads each result from the PACS and checks it: dciodvfy-clean, in the source study, one BINARY SEG, one
    /// FRACTIONAL SEG and two Secondary Captures; and the BINARY SEG, decoded, equals segment by segment the label
    /// map the worker wrote (results/{id}/mask.mha in the store, the job's only result folder).
    /// </summary>
    public static async Task VerifyAsync(OrthancServer pacs, IReadOnlyList<string> resultIds, string studyUid, string storeRoot, string scratch, CancellationToken cancellationToken)
    {
        var kinds = new List<string>();
        DecodedSegmentation? binary = null;
        foreach (var id in resultIds)
        {
            var path = Path.Combine(scratch, $"from-pacs-{id}.dcm");
            await File.WriteAllBytesAsync(path, await pacs.GetInstanceFileAsync(id, cancellationToken), cancellationToken);
            var check = await Tools.DciodvfyAsync(path, cancellationToken);
            check.ExitCode.Should().Be(0, check.ToString());
            check.Output.Should().NotContain("Error", $"dciodvfy on the PACS's copy of {id}");
            var dataset = DicomFile.Open(path).Dataset;
            dataset.GetString(DicomTags.StudyInstanceUID).Should().Be(studyUid, "results go back into the source study");
            var modality = dataset.GetString(DicomTags.Modality)!;
            if (modality != "SEG")
            {
                kinds.Add(modality);
                continue;
            }
            var seg = SegmentationReader.Read(path);
            kinds.Add("SEG " + seg.Kind);
            if (seg.Kind == SegmentationKind.Binary)
            {
                binary = seg;
            }
        }
        kinds.Should().BeEquivalentTo(["SEG Binary", "SEG Fractional", "OT", "OT"]);

        var resultFolder = Directory.EnumerateDirectories(Path.Combine(storeRoot, "results")).Should().ContainSingle().Subject;
        var mask = MetaImageReader.Read<byte>(Path.Combine(resultFolder, "mask.mha"));
        binary!.Frames.Select(f => f.SegmentNumber).Should().OnlyHaveUniqueItems("one frame per segment on the single segmented slice");
        var foreground = 0;
        for (byte label = 1; label <= 3; label++)
        {
            var expected = mask.Voxels.Select(v => v == label ? (byte)1 : (byte)0).ToArray();
            var decoded = binary.Frames.SingleOrDefault(f => f.SegmentNumber == label)?.Pixels ?? new byte[expected.Length];
            decoded.Should().Equal(expected, $"segment {label} decoded from the PACS equals label {label} of the worker's mask.mha");
            foreground += expected.Count(v => v == 1);
        }
        foreground.Should().BeGreaterThan(1000, "a lumbar phantom has canal, vertebrae and discs on its middle slice");
    }
}
