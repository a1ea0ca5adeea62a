using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Geometry;

namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>
/// The paper's preprocessing for one sagittal MR series: instances -> volume in patient coordinates -> RAS+ ->
/// central sagittal slice -> 98th-percentile normalisation -> 1 mm -> 320x320. Rejects what it cannot do right
/// with <see cref="UnsupportedSeriesException"/>.
/// </summary>
public static class SeriesPreprocessor
{
    public static PreprocessedSlice Preprocess(IReadOnlyList<DicomDataset> instances) => Preprocess(SeriesVolume.Build(instances));

    public static PreprocessedSlice Preprocess(SeriesVolume series, int? rasSliceIndex = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        var geometry = series.Volume.Geometry;
        var toRas = Reorientation.ToRasPermutation(geometry);
        // The left-right axis must be the stacking axis: otherwise "the central sagittal slice" would be an
        // axial or coronal plane resliced at several millimetres, not an acquired image.
        if (toRas.SourceAxis(0) != 2)
        {
            var normal = geometry.Direction.Axis2;
            throw new UnsupportedSeriesException(SeriesRejection.NotSagittal,
                FormattableString.Invariant($"The slice normal {normal} is not left-right: the series is not sagittal."));
        }
        var count = geometry.Size2;
        var rasIndex = rasSliceIndex ?? count / 2;
        if ((uint)rasIndex >= (uint)count)
        {
            throw new ArgumentOutOfRangeException(nameof(rasSliceIndex), rasIndex, $"The series has {count} slices.");
        }
        var map = SagittalSlicer.Map(geometry, toRas, rasIndex);
        var pixels = SagittalSlicer.Extract(series.Volume.Voxels, map);
        var ras = toRas.Apply(geometry);
        var canonical = new CanonicalSlice(pixels, ras.Size2, ras.Size1, ras.Spacing.Z, ras.Spacing.Y);
        var (image, transform, reference) = SlicePreprocessor.Preprocess(canonical);
        var sourceSlice = toRas.Flipped(0) ? count - 1 - rasIndex : rasIndex;
        var plane = geometry.Size0 * geometry.Size1;
        return new PreprocessedSlice(image, transform, reference, series.Slices[sourceSlice], sourceSlice, count, map,
            sourceSlice * plane, series.SeriesInstanceUid, series.FrameOfReferenceUid);
    }
}
