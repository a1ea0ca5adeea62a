using SpineSegDiff.Dicom;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results.Tests.Support;

/// <summary>Deliberately broken copies of a written SEG, the mistakes real SEG writers have made.</summary>
public static class SegBreaker
{
    /// <summary>Same bits, but the first pixel in the most significant bit of each byte.</summary>
    public static DicomDataset WrongBitOrder(WrittenSeg seg)
    {
        var ds = seg.Result.Dataset.Clone();
        var bytes = ds.GetBytes(DicomTags.PixelData).ToArray();
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            byte reversed = 0;
            for (var bit = 0; bit < 8; bit++)
            {
                reversed |= (byte)(((b >> bit) & 1) << (7 - bit));
            }
            bytes[i] = reversed;
        }
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, bytes);
        return ds;
    }

    /// <summary>Each frame references the source image of the next frame (positions unchanged).</summary>
    public static DicomDataset ShuffleSourceReferences(WrittenSeg seg)
    {
        var ds = seg.Result.Dataset.Clone();
        var frames = ds.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)!.Items;
        var uids = frames.Select(SourceImage).Select(s => s.GetString(DicomTags.ReferencedSOPInstanceUID)!).ToList();
        if (uids.Distinct().Count() < 2)
        {
            throw new InvalidOperationException("Shuffling needs frames on at least two source images.");
        }
        for (var f = 0; f < frames.Count; f++)
        {
            SourceImage(frames[f]).SetString(DicomTags.ReferencedSOPInstanceUID, uids[(f + 1) % uids.Count]);
        }
        return ds;
    }

    /// <summary>Each frame's Image Position (Patient) moved one slice further along the normal (references unchanged).</summary>
    public static DicomDataset ShiftPositionsBySlice(WrittenSeg seg)
    {
        var ds = seg.Result.Dataset.Clone();
        var instances = seg.Source.Instances();
        var positions = SpineSegDiff.Imaging.Preprocessing.SeriesVolume.Build(instances).Slices.Select(s => s.ImagePositionPatient).ToList();
        var step = positions.Count > 1 ? positions[1] - positions[0] : throw new InvalidOperationException("Shifting needs two slices.");
        foreach (var frame in ds.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)!.Items)
        {
            var plane = frame.GetSequence(DicomTags.PlanePositionSequence)!.Items[0];
            var p = plane.GetDecimalStrings(DicomTags.ImagePositionPatient);
            plane.SetDecimalString(DicomTags.ImagePositionPatient, p[0] + step.X, p[1] + step.Y, p[2] + step.Z);
        }
        return ds;
    }

    /// <summary>No Derivation Image Sequence at all: a reader must fall back to positions.</summary>
    public static DicomDataset WithoutSourceReferences(WrittenSeg seg)
    {
        var ds = seg.Result.Dataset.Clone();
        foreach (var frame in ds.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)!.Items)
        {
            frame.Remove(DicomTags.DerivationImageSequence);
        }
        return ds;
    }

    public static string Save(DicomDataset dataset, string path)
    {
        SegmentationWriter.Save(dataset, path);
        return path;
    }

    private static DicomDataset SourceImage(DicomDataset frame) =>
        frame.GetSequence(DicomTags.DerivationImageSequence)!.Items[0].GetSequence(DicomTags.SourceImageSequence)!.Items[0];
}
