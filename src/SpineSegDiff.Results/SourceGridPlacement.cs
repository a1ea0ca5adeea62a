using System.Globalization;
using SpineSegDiff.Imaging;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results;

/// <summary>A label map and an optional uncertainty map on the whole source series grid, and the slices they cover.</summary>
public sealed record SourceGridMaps(Volume<byte> Labels, Volume<float>? Uncertainty, SourceSliceSelection Covered);

/// <summary>
/// Puts maps that cover some slices of a source series (the one-slice mask.mha and uncertainty.mha of
/// <c>spineseg segment</c>, a label map of the whole series, a few slices from another tool) onto the series' full
/// grid, by matching each map slice to the source image at the same position. Anything that does not lie exactly on
/// the series (other in-plane size, spacing or orientation, a slice between source images) is refused with a
/// message naming the mismatch: a SEG on a guessed slice would show anatomy where there is none.
/// </summary>
public static class SourceGridPlacement
{
    // Positions and directions: the writers' grid tolerances (SourceSeriesContext); spacing within 0.1 %.
    private const double RelativeSpacingTolerance = 1e-3;

    /// <summary>
    /// Places <paramref name="labels"/> (0 background, 1 canal, 2 vertebra, 3 disc) and, when given,
    /// <paramref name="uncertainty"/> (values in [0, 1], on the labels' grid) onto <paramref name="series"/>.
    /// Uncovered slices are background with zero uncertainty.
    /// </summary>
    /// <exception cref="ArgumentException">The maps do not lie on the series, or hold values outside their range.</exception>
    public static SourceGridMaps Place(SeriesVolume series, Volume<byte> labels, Volume<float>? uncertainty)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(labels);
        DerivedSeries.CheckLabels(labels.Voxels, nameof(labels));
        if (uncertainty is not null)
        {
            CheckSameGrid(labels.Geometry, uncertainty.Geometry);
            DerivedSeries.CheckUnitInterval(uncertainty.Voxels, nameof(uncertainty));
        }

        var grid = series.Volume.Geometry;
        CheckPlane(grid, labels.Geometry);
        var sliceOf = MatchSlices(series, labels.Geometry);

        var plane = grid.Size0 * grid.Size1;
        var fullLabels = new byte[plane * grid.Size2];
        var fullUncertainty = uncertainty is null ? null : new float[plane * grid.Size2];
        for (var k = 0; k < sliceOf.Length; k++)
        {
            Array.Copy(labels.Voxels, k * plane, fullLabels, sliceOf[k] * plane, plane);
            if (uncertainty is not null)
            {
                Array.Copy(uncertainty.Voxels, k * plane, fullUncertainty!, sliceOf[k] * plane, plane);
            }
        }
        return new SourceGridMaps(
            new Volume<byte>(grid, fullLabels),
            fullUncertainty is null ? null : new Volume<float>(grid, fullUncertainty),
            SourceSliceSelection.Of(sliceOf));
    }

    private static void CheckSameGrid(VolumeGeometry labels, VolumeGeometry uncertainty)
    {
        var same = labels.Size0 == uncertainty.Size0 && labels.Size1 == uncertainty.Size1 && labels.Size2 == uncertainty.Size2
            && SourceSeriesContext.SameFirstPlane(labels, uncertainty);
        if (!same)
        {
            throw new ArgumentException(
                $"The uncertainty map ({uncertainty.Size0}x{uncertainty.Size1}x{uncertainty.Size2} at {uncertainty.Origin}) is not on the label map's grid ({labels.Size0}x{labels.Size1}x{labels.Size2} at {labels.Origin}).",
                nameof(uncertainty));
        }
    }

    private static void CheckPlane(VolumeGeometry series, VolumeGeometry map)
    {
        if (map.Size0 != series.Size0 || map.Size1 != series.Size1)
        {
            throw new ArgumentException(
                $"The label map's slices are {map.Size0} columns x {map.Size1} rows, the source images {series.Size0} x {series.Size1}.", "labels");
        }
        if (!NearlyEqual(map.Spacing.X, series.Spacing.X) || !NearlyEqual(map.Spacing.Y, series.Spacing.Y))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The label map's pixel spacing {map.Spacing.X:G6} x {map.Spacing.Y:G6} mm differs from the source images' {series.Spacing.X:G6} x {series.Spacing.Y:G6} mm."),
                "labels");
        }
        if ((map.Direction.Axis0 - series.Direction.Axis0).Length > SourceSeriesContext.DirectionTolerance
            || (map.Direction.Axis1 - series.Direction.Axis1).Length > SourceSeriesContext.DirectionTolerance)
        {
            throw new ArgumentException(
                $"The label map's row/column directions {map.Direction.Axis0} / {map.Direction.Axis1} differ from the source images' {series.Direction.Axis0} / {series.Direction.Axis1}.",
                "labels");
        }
    }

    /// <summary>The source slice index of each map slice, by image position.</summary>
    private static int[] MatchSlices(SeriesVolume series, VolumeGeometry map)
    {
        var sliceOf = new int[map.Size2];
        for (var k = 0; k < map.Size2; k++)
        {
            var position = map.Origin + (k * map.Spacing.Z) * map.Direction.Axis2;
            var match = -1;
            var nearest = double.PositiveInfinity;
            for (var j = 0; j < series.Slices.Count; j++)
            {
                var distance = (series.Slices[j].ImagePositionPatient - position).Length;
                if (distance < nearest)
                {
                    (nearest, match) = (distance, j);
                }
            }
            if (nearest > SourceSeriesContext.OriginTolerance)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Slice {k} of the label map (origin {position}) is no image of the source series: the nearest, slice {match}, is {nearest:F3} mm away."),
                    "labels");
            }
            if (Array.IndexOf(sliceOf, match, 0, k) >= 0)
            {
                throw new ArgumentException($"Two slices of the label map lie on source slice {match}.", "labels");
            }
            sliceOf[k] = match;
        }
        return sliceOf;
    }

    private static bool NearlyEqual(double a, double b) => Math.Abs(a - b) <= RelativeSpacingTolerance * Math.Max(a, b);
}
