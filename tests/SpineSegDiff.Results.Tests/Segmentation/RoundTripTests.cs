using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Results.Tests.Support;

namespace SpineSegDiff.Results.Tests.Segmentation;

[Collection(SeriesCollection.Name)]
public sealed class RoundTripTests(SeriesFixture series)
{
    [Theory]
    [MemberData(nameof(SegVariant.Names), MemberType = typeof(SegVariant))]
    public void Our_reader_gives_back_the_label_map_voxel_for_voxel(string variant)
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, variant, temp.Path);
        var decoded = SegmentationReader.Read(seg.Path);
        var slices = SeriesVolume.Build(seg.Source.Instances()).Slices;
        var masks = decoded.ToSourceGrid(slices);

        decoded.Kind.Should().Be(SegmentationKind.Binary);
        decoded.Segments.Select(s => s.Number).Should().Equal(1, 2, 3);
        masks.Keys.Should().BeEquivalentTo([1, 2, 3]);
        var expected = seg.ExpectedLabels();
        for (var segment = 1; segment <= 3; segment++)
        {
            var mask = masks[segment];
            mask.Should().HaveCount(expected.Length);
            var wrong = 0;
            var set = 0;
            for (var n = 0; n < expected.Length; n++)
            {
                var want = expected[n] == segment ? 1 : 0;
                set += want;
                if (mask[n] != want)
                {
                    wrong++;
                }
            }
            wrong.Should().Be(0, $"segment {segment} of {variant}");
            if (segment == seg.Variant.EmptyLabel)
            {
                set.Should().Be(0);
            }
            else
            {
                set.Should().BeGreaterThan(0, "the test data has every class on the covered slices");
            }
        }
    }

    [Fact]
    public void A_frame_whose_reference_and_position_disagree_is_refused_by_our_reader()
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, "odd-all", temp.Path);
        var broken = SegBreaker.ShiftPositionsBySlice(seg);
        var slices = SeriesVolume.Build(seg.Source.Instances()).Slices;
        var act = () => SegmentationReader.Read(broken).ToSourceGrid(slices);
        act.Should().Throw<SegmentationFormatException>().WithMessage("*references source image*Image Position (Patient)*");
    }

    [Fact]
    public void Frames_without_references_are_placed_by_position()
    {
        using var temp = new TempDirectory();
        var seg = WrittenSeg.Write(series, "odd-all", temp.Path);
        var unreferenced = SegBreaker.WithoutSourceReferences(seg);
        var slices = SeriesVolume.Build(seg.Source.Instances()).Slices;
        var masks = SegmentationReader.Read(unreferenced).ToSourceGrid(slices);
        var expected = seg.ExpectedLabels();
        masks[2].Select(v => (int)v).Should().Equal(expected.Select(v => v == 2 ? 1 : 0));
    }
}
