using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Imaging.Tests.Support;

namespace SpineSegDiff.Imaging.Tests.Preprocessing;

public sealed class SeriesPreprocessorTests
{
    private const double Spacing = 0.8;
    private static readonly Vec3 Centre = new(3, -20, 150);

    public static TheoryData<string, double[]> Orientations => new()
    {
        { "rows inferior, columns posterior", [0, 1, 0, 0, 0, -1] },
        { "rows superior, columns anterior", [0, -1, 0, 0, 0, 1] },
        { "transposed: rows posterior, columns inferior", [0, 0, -1, 0, 1, 0] },
        { "oblique 10 degrees", [0, Math.Cos(0.1745), -Math.Sin(0.1745), 0, -Math.Sin(0.1745), -Math.Cos(0.1745)] },
    };

    [Theory]
    [MemberData(nameof(Orientations))]
    public void Every_in_plane_orientation_gives_the_same_model_input_and_maps_back_onto_its_own_pixels(string name, double[] iop)
    {
        var reference = SeriesPreprocessor.Preprocess(Series([0, 1, 0, 0, 0, -1], shuffle: false));
        var instances = Series(iop, shuffle: true);
        var slice = SeriesPreprocessor.Preprocess(instances);

        slice.SliceCount.Should().Be(9);
        slice.SliceIndex.Should().Be(4, name);
        slice.Source.SopInstanceUid.Should().Be(UidAt(instances, 0), "the central slice is the one at x = 0");
        if (!name.StartsWith("oblique", StringComparison.Ordinal))
        {
            slice.Image.Should().Equal(reference.Image, (a, b) => Math.Abs(a - b) < 1e-5f, name);
        }

        // A label pattern drawn on the source pixels survives the trip to the model grid and back, in the source's own layout.
        var labels = LabelPattern(slice.Source);
        var back = slice.LabelsToSource(slice.LabelsToGrid(labels));
        for (byte c = 1; c <= 3; c++)
        {
            Dice.Of(back, labels, c).Should().BeGreaterThan(0.95, $"{name}, class {c}");
        }
        var soft = slice.ProbabilitiesToSourceLabels(slice.ClassFractionsToGrid(labels));
        for (byte c = 1; c <= 3; c++)
        {
            Dice.Of(soft, labels, c).Should().BeGreaterThan(0.99, $"{name}, class {c} (soft)");
        }
    }

    [Fact]
    public void Rejects_an_axial_series() =>
        Rejection(Series([1, 0, 0, 0, 1, 0], shuffle: false)).Should().Be(SeriesRejection.NotSagittal);

    [Fact]
    public void Rejects_missing_geometry()
    {
        var instances = Series([0, 1, 0, 0, 0, -1], shuffle: false);
        instances[3].Remove(DicomTags.ImagePositionPatient);
        Rejection(instances).Should().Be(SeriesRejection.MissingGeometry);
    }

    [Fact]
    public void Rejects_a_missing_slice()
    {
        var instances = Series([0, 1, 0, 0, 0, -1], shuffle: false);
        instances.RemoveAt(6);
        Rejection(instances).Should().Be(SeriesRejection.InconsistentSpacing);
    }

    [Fact]
    public void Rejects_mixed_orientations_and_duplicate_positions()
    {
        var mixed = Series([0, 1, 0, 0, 0, -1], shuffle: false);
        mixed[2].SetDecimalString(DicomTags.ImageOrientationPatient, 0, 0, -1, 0, 1, 0);
        Rejection(mixed).Should().Be(SeriesRejection.InconsistentGeometry);

        var duplicate = Series([0, 1, 0, 0, 0, -1], shuffle: false);
        duplicate.Add(duplicate[4].Clone().SetString(DicomTags.SOPInstanceUID, "1.2.3.4"));
        Rejection(duplicate).Should().Be(SeriesRejection.InconsistentSpacing);
    }

    [Fact]
    public void Rejects_an_empty_series_and_colour_images()
    {
        Rejection([]).Should().Be(SeriesRejection.Empty);
        var colour = Series([0, 1, 0, 0, 0, -1], shuffle: false);
        colour[0].SetString(DicomTags.PhotometricInterpretation, "RGB");
        Rejection(colour).Should().Be(SeriesRejection.UnsupportedPixelData);
    }

    private static SeriesRejection Rejection(IReadOnlyList<DicomDataset> instances)
    {
        var act = () => SeriesPreprocessor.Preprocess(instances);
        return act.Should().Throw<UnsupportedSeriesException>().Which.Reason;
    }

    private static string UidAt(List<DicomDataset> instances, double x) =>
        instances.Single(d => Math.Abs(d.GetDecimalStrings(DicomTags.ImagePositionPatient)[0] - (Centre.X + x)) < 1e-6).GetString(DicomTags.SOPInstanceUID)!;

    /// <summary>Canal, vertebra and disc shapes as functions of patient position, drawn onto the source image.</summary>
    private static byte[] LabelPattern(SourceImageReference source)
    {
        var labels = new byte[source.Rows * source.Columns];
        for (var r = 0; r < source.Rows; r++)
        {
            for (var c = 0; c < source.Columns; c++)
            {
                var p = source.PixelToPatient(r, c) - Centre;
                labels[r * source.Columns + c] = Label(p.Y, p.Z);
            }
        }
        return labels;
    }

    private static byte Label(double y, double z)
    {
        // Edges sit off the 0.4 mm lattice of pixel centres, so rounding cannot move a pixel across one.
        if (Math.Abs(y - 25.13) < 7.07 && Math.Abs(z) < 70.21)
        {
            return 1;
        }
        if (y > -25.19 && y < 12.11 && Math.Abs(z) < 70.21)
        {
            var phase = ((z + 200.03) % 36 + 36) % 36;
            return phase < 8.05 ? (byte)3 : (byte)2;
        }
        return 0;
    }

    /// <summary>A 9-slice sagittal series covering the same physical region whatever the in-plane orientation.</summary>
    private static List<DicomDataset> Series(double[] iop, bool shuffle)
    {
        var rowDir = new Vec3(iop[0], iop[1], iop[2]);
        var colDir = new Vec3(iop[3], iop[4], iop[5]);
        var normal = rowDir.Cross(colDir);
        // 150 mm (y) x 180 mm (z) for the standard orientation; the extent follows each axis's direction.
        int cols = Math.Abs(rowDir.Y) > Math.Abs(rowDir.Z) ? 188 : 226;
        int rows = cols == 188 ? 226 : 188;
        if (Math.Abs(normal.X) < 0.5)
        {
            (rows, cols) = (120, 120);
        }
        var series = DicomUids.Generate();
        var frame = DicomUids.Generate();
        var list = new List<DicomDataset>();
        for (var s = -4; s <= 4; s++)
        {
            var centre = Centre + (s * 3.5) * (Math.Abs(normal.X) > 0.5 ? new Vec3(1, 0, 0) : normal);
            var ipp = centre - ((cols - 1) / 2.0 * Spacing) * rowDir - ((rows - 1) / 2.0 * Spacing) * colDir;
            var pixels = new ushort[rows * cols];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < cols; c++)
                {
                    var p = ipp + (c * Spacing) * rowDir + (r * Spacing) * colDir - Centre;
                    pixels[r * cols + c] = (ushort)Math.Round(200.3 + 100 * Label(p.Y, p.Z) + 50 * Math.Sin(p.Y / 9) + 40 * Math.Cos(p.Z / 13) + 2 * p.X);
                }
            }
            var ds = new DicomDataset();
            ds.SetString(DicomTags.SOPClassUID, DicomUids.MRImageStorage);
            ds.SetString(DicomTags.SOPInstanceUID, DicomUids.Generate());
            ds.SetString(DicomTags.SeriesInstanceUID, series);
            ds.SetString(DicomTags.FrameOfReferenceUID, frame);
            ds.SetIntegerString(DicomTags.InstanceNumber, s + 5);
            ds.SetDecimalString(DicomTags.ImagePositionPatient, ipp.X, ipp.Y, ipp.Z);
            ds.SetDecimalString(DicomTags.ImageOrientationPatient, iop);
            ds.SetDecimalString(DicomTags.PixelSpacing, Spacing, Spacing);
            ds.SetDecimalString(DicomTags.SliceThickness, 3.5);
            ds.SetUInt16(DicomTags.SamplesPerPixel, 1);
            ds.SetString(DicomTags.PhotometricInterpretation, "MONOCHROME2");
            ds.SetUInt16(DicomTags.Rows, (ushort)rows);
            ds.SetUInt16(DicomTags.Columns, (ushort)cols);
            ds.SetUInt16(DicomTags.BitsAllocated, 16);
            ds.SetUInt16(DicomTags.BitsStored, 12);
            ds.SetUInt16(DicomTags.HighBit, 11);
            ds.SetUInt16(DicomTags.PixelRepresentation, 0);
            ds.SetValues(DicomTags.PixelData, DicomVR.OW, pixels);
            list.Add(ds);
        }
        if (shuffle)
        {
            var random = new Random(11);
            return [.. list.OrderBy(_ => random.Next())];
        }
        return list;
    }
}
