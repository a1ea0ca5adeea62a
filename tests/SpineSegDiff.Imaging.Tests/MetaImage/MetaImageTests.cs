using System.Numerics;
using System.Text;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Tests.Support;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Imaging.Tests.MetaImage;

public sealed class MetaImageTests
{
    private static readonly VolumeGeometry Oblique = new(
        5, 4, 3,
        new Vec3(0.5, 0.75, 3.3),
        new Vec3(-12.5, 40.25, 101),
        new Direction3(
            new Vec3(0, 1, 0),
            new Vec3(-0.0383878601154, 0, -0.9992629144503),
            new Vec3(-0.9992629144503, 0, 0.0383878601154)));

    public static TheoryData<string, bool> Layouts => new()
    {
        { "v.mha", true },
        { "v.mha", false },
        { "v.mhd", true },
        { "v.mhd", false },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Round_trips_every_element_type_with_geometry(string name, bool compress)
    {
        using var dir = new TempDirectory();
        RoundTrip<short>(dir, name, compress, n => (short)(n * 37 - 900));
        RoundTrip<ushort>(dir, name, compress, n => (ushort)(n * 1000));
        RoundTrip<byte>(dir, name, compress, n => (byte)(n % 4));
        RoundTrip<sbyte>(dir, name, compress, n => (sbyte)(n - 30));
        RoundTrip<int>(dir, name, compress, n => n * -100000);
        RoundTrip<float>(dir, name, compress, n => n * 0.1f - 2.5f);
    }

    [Fact]
    public void Converts_between_element_types_and_refuses_values_that_do_not_fit()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("labels.mha");
        var voxels = new short[Oblique.VoxelCount];
        voxels[3] = 201;
        voxels[7] = 100;
        MetaImageWriter.Write(path, new Volume<short>(Oblique, voxels));
        MetaImageReader.Read<float>(path).Voxels[3].Should().Be(201f);
        MetaImageReader.Read<byte>(path).Voxels[7].Should().Be(100);
        voxels[3] = 300;
        MetaImageWriter.Write(path, new Volume<short>(Oblique, voxels));
        FluentActions.Invoking(() => MetaImageReader.Read<sbyte>(path)).Should().Throw<MetaImageFormatException>();
    }

    [Fact]
    public void Rejects_truncated_and_corrupt_data_and_data_files_outside_the_folder()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("v.mha");
        MetaImageWriter.Write(path, new Volume<short>(Oblique));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^6]);
        FluentActions.Invoking(() => MetaImageReader.Read<short>(path)).Should().Throw<MetaImageFormatException>();

        var header = "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\nElementDataFile = ../../etc/passwd\n";
        File.WriteAllText(path, header);
        FluentActions.Invoking(() => MetaImageReader.Read<short>(path)).Should().Throw<MetaImageFormatException>().WithMessage("*outside*");

        File.WriteAllBytes(path, Encoding.ASCII.GetBytes(new string('x', 70000)));
        FluentActions.Invoking(() => MetaImageReader.Read<short>(path)).Should().Throw<MetaImageFormatException>();
    }

    [Fact]
    public void Reads_an_asl_file_with_transform_matrix_as_axis_directions_in_lps()
    {
        // 127_t2_SPACE: "TransformMatrix = -0 1 0 0 -0 -1 -1 0 0", AnatomicalOrientation = ASL, Offset = 73.07 -121.08 302.67.
        var header = MetaImageReader.ReadHeader(SpiderData.MaskPath("127_t2_SPACE"));
        var g = header.Geometry;
        g.Direction.Axis0.Should().Be(new Vec3(0, 1, 0), "axis 0 runs toward posterior (+y in LPS)");
        g.Direction.Axis1.Should().Be(new Vec3(0, 0, -1), "axis 1 runs toward inferior");
        g.Direction.Axis2.Should().Be(new Vec3(-1, 0, 0), "axis 2 runs toward the patient's right");
        g.Origin.X.Should().BeApproximately(73.068069458007813, 1e-9);
        g.IndexToPatient(0, 0, 0).Should().Be(g.Origin);
        g.ItkOrientationCode().Should().Be("ASL");
        g.OrientationCode().Should().Be("PIR");
        g.SagittalAxis().Should().Be(2);
        (g.Size0, g.Size1, g.Size2).Should().Be((512, 640, 120));
    }

    [Fact]
    public void Reads_every_spider_mask_with_sane_geometry_and_labels()
    {
        var catalog = SpiderData.Catalog;
        catalog.Cases.Should().HaveCount(39);
        Parallel.ForEach(catalog.Cases, new ParallelOptions { MaxDegreeOfParallelism = 2 }, spiderCase =>
        {
            var header = MetaImageReader.ReadHeader(spiderCase.MaskPath);
            var g = header.Geometry;
            header.ElementType.Should().Be(MetaElementType.Short);
            header.Compressed.Should().BeTrue();
            // The file's informational orientation is what its TransformMatrix says, read the ITK way.
            g.ItkOrientationCode().Should().Be(header.AnatomicalOrientation, spiderCase.Id);
            g.Direction.OrthonormalityError().Should().BeLessThan(1e-6, spiderCase.Id);
            var sagittal = g.SagittalAxis();
            for (var a = 0; a < 3; a++)
            {
                var expected = a == sagittal ? (0.8, 5.0) : (0.3, 1.0);
                g.Spacing[a].Should().BeInRange(expected.Item1, expected.Item2, $"{spiderCase.Id} axis {a}");
            }
            var mask = MetaImageReader.Read<short>(spiderCase.MaskPath);
            var classes = SpiderLabels.ToClasses(mask);
            var present = new bool[4];
            foreach (var c in classes.Voxels)
            {
                present[c] = true;
            }
            present.Should().AllBeEquivalentTo(true, $"{spiderCase.Id} has background, canal, vertebrae and discs");
        });
    }

    [Theory]
    [InlineData((short)0, LabelClasses.Background)]
    [InlineData((short)1, LabelClasses.Vertebra)]
    [InlineData((short)9, LabelClasses.Vertebra)]
    [InlineData((short)17, LabelClasses.Vertebra)]
    [InlineData((short)24, LabelClasses.Vertebra)]
    [InlineData((short)100, LabelClasses.SpinalCanal)]
    [InlineData((short)201, LabelClasses.Disc)]
    [InlineData((short)224, LabelClasses.Disc)]
    public void Maps_both_spider_numbering_conventions_to_project_classes(short value, byte expected) =>
        SpiderLabels.ToClass(value).Should().Be(expected);

    [Fact]
    public void Refuses_values_that_are_not_spider_labels() =>
        FluentActions.Invoking(() => SpiderLabels.ToClass(150)).Should().Throw<ArgumentOutOfRangeException>();

    private static void RoundTrip<T>(TempDirectory dir, string name, bool compress, Func<int, T> value) where T : unmanaged, INumber<T>
    {
        var voxels = new T[Oblique.VoxelCount];
        for (var n = 0; n < voxels.Length; n++)
        {
            voxels[n] = value(n);
        }
        var path = dir.Combine(typeof(T).Name + "-" + name);
        MetaImageWriter.Write(path, new Volume<T>(Oblique, voxels), compress);
        var read = MetaImageReader.Read<T>(path);
        read.Voxels.Should().Equal(voxels);
        read.Geometry.Should().Be(Oblique);
        MetaImageReader.ReadHeader(path).AnatomicalOrientation.Should().Be("ASL");
    }
}
