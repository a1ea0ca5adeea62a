using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Imaging.Tests.Support;

namespace SpineSegDiff.Imaging.Tests.Geometry;

public sealed class ReorientationTests
{
    [Theory]
    [InlineData("104_t1", "RAI", 0)]
    [InlineData("127_t2_SPACE", "ASL", 2)]
    [InlineData("166_t2", "ASL", 2)]
    public void Ras_reorientation_keeps_every_voxel_at_its_patient_position(string caseId, string itkCode, int sagittalAxis)
    {
        var source = MetaImageReader.Read<short>(SpiderData.MaskPath(caseId));
        source.Geometry.ItkOrientationCode().Should().Be(itkCode);
        source.Geometry.SagittalAxis().Should().Be(sagittalAxis);

        var ras = Reorientation.ToRas(source);
        var g = ras.Geometry;
        g.OrientationCode().Should().Be("RAS");
        g.Direction.Axis0.X.Should().BeLessThan(-0.99, "axis 0 points to the patient's right (-x in LPS)");
        g.Direction.Axis1.Y.Should().BeLessThan(-0.99, "axis 1 points anterior (-y)");
        g.Direction.Axis2.Z.Should().BeGreaterThan(0.99, "axis 2 points superior (+z)");
        g.SagittalAxis().Should().Be(0);
        g.Spacing.X.Should().Be(source.Geometry.Spacing[sagittalAxis]);

        var random = new Random(5);
        for (var n = 0; n < 2000; n++)
        {
            var (i, j, k) = (random.Next(g.Size0), random.Next(g.Size1), random.Next(g.Size2));
            var p = g.IndexToPatient(i, j, k);
            var s = source.Geometry.PatientToIndex(p);
            var (si, sj, sk) = ((int)Math.Round(s.X), (int)Math.Round(s.Y), (int)Math.Round(s.Z));
            (s - new Vec3(si, sj, sk)).Length.Should().BeLessThan(1e-6, "a permutation maps voxel centres onto voxel centres");
            ras[i, j, k].Should().Be(source[si, sj, sk]);
        }
    }

    [Fact]
    public void Index_and_patient_coordinates_are_inverse()
    {
        var g = MetaImageReader.ReadHeader(SpiderData.MaskPath("185_t2")).Geometry;
        var p = g.IndexToPatient(10.25, 300.5, 7);
        var back = g.PatientToIndex(p);
        (back - new Vec3(10.25, 300.5, 7)).Length.Should().BeLessThan(1e-9);
    }

    [Fact]
    public void Permutation_choice_survives_a_45_degree_tie()
    {
        var c = Math.Sqrt(0.5);
        var direction = new Direction3(new Vec3(c, c, 0), new Vec3(-c, c, 0), new Vec3(0, 0, 1));
        var geometry = new VolumeGeometry(3, 3, 3, new Vec3(1, 1, 1), Vec3.Zero, direction);
        var permutation = Reorientation.ToRasPermutation(geometry);
        var axes = new[] { permutation.SourceAxis(0), permutation.SourceAxis(1), permutation.SourceAxis(2) };
        axes.Should().OnlyHaveUniqueItems();
        permutation.SourceAxis(2).Should().Be(2);
    }
}
