using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Integration.Tests.Peers;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Results.Tests.Support;
using Xunit.Abstractions;

namespace SpineSegDiff.Results.Tests.Segmentation;

/// <summary>The optional per-level segments: the counting rule on a drawn spine, and a valid SEG on the phantom.</summary>
[Collection(SeriesCollection.Name)]
public sealed class LumbarLevelTests(SeriesFixture series, ITestOutputHelper output)
{
    // A sagittal stack: rows run toward inferior (patient -Z), as in a real sagittal series.
    private const int Columns = 40, Rows = 130, Slices = 3;

    [Fact]
    public void Levels_are_counted_up_from_the_lowest_disc()
    {
        // From the bottom: sacrum, L5-S1, L5, L4-L5, L4, ..., L1-L2, L1, T12-L1, T12, drawn as bands 8 rows high
        // (vertebrae) and 3 rows (discs), bottom band at the last rows; a small disc fragment beside L3-L4, and a
        // spinous process (separate vertebra region) behind L4.
        var labels = new byte[Columns * Rows * Slices];
        var row = Rows - 1;
        var expected = new Dictionary<string, (int Row, int Column)>();
        void Band(int height, byte label, string name, int fromColumn = 5, int toColumn = 25)
        {
            for (var r = row - height + 1; r <= row; r++)
            {
                for (var k = 0; k < Slices; k++)
                {
                    for (var c = fromColumn; c < toColumn; c++)
                    {
                        labels[c + Columns * (r + Rows * k)] = label;
                    }
                }
            }
            expected[name] = (row - height / 2, (fromColumn + toColumn) / 2);
            row -= height + 1;
        }
        Band(8, LabelClasses.Vertebra, "other vertebrae (sacrum)");
        string[] discs = ["L5-S1", "L4-L5", "L3-L4", "L2-L3", "L1-L2", "other discs"];
        string[] vertebrae = ["L5", "L4", "L3", "L2", "L1", "other vertebrae (T12)"];
        for (var level = 0; level < 6; level++)
        {
            Band(3, LabelClasses.Disc, discs[level]);
            var top = row;
            Band(8, LabelClasses.Vertebra, vertebrae[level]);
            if (vertebrae[level] == "L4")
            {
                row = top;
                Band(4, LabelClasses.Vertebra, "L4 spinous process", 30, 36);
                row = top - 9;
            }
        }
        // A 1-voxel disc fragment at the height of L3-L4, far behind it.
        var l34 = expected["L3-L4"];
        labels[38 + Columns * (l34.Row + Rows * 1)] = LabelClasses.Disc;
        var volume = new Volume<byte>(
            new VolumeGeometry(Columns, Rows, Slices, new Vec3(1, 1, 4), new Vec3(0, 0, 200), new Direction3(new Vec3(0, 1, 0), new Vec3(0, 0, -1), new Vec3(-1, 0, 0))),
            labels);

        var map = LumbarLevelLabeller.Assign(volume, [0, 1, 2]);

        foreach (var (name, (r, c)) in expected)
        {
            var segment = map[c + Columns * (r + Rows * 1)];
            var level = LumbarLevelLabeller.LevelName(segment);
            output.WriteLine($"{name}: segment {segment} ({level})");
            name.Should().StartWith(level);
        }
        LumbarLevelLabeller.LevelName(map[38 + Columns * (l34.Row + Rows * 1)]).Should().Be("L3-L4", "a fragment joins the nearest disc's level");
        // Nothing is lost: every labelled voxel has a segment of its own class.
        for (var n = 0; n < labels.Length; n++)
        {
            var segment = map[n];
            var expectedClass = segment switch
            {
                0 => LabelClasses.Background,
                LumbarLevelLabeller.Canal => LabelClasses.SpinalCanal,
                >= 2 and <= 6 or LumbarLevelLabeller.OtherVertebrae => LabelClasses.Vertebra,
                _ => LabelClasses.Disc,
            };
            expectedClass.Should().Be(labels[n]);
        }
    }

    [Fact]
    public void With_fewer_than_five_discs_the_vertebra_above_the_highest_takes_the_next_level()
    {
        // Sacrum, L5-S1, L5, L4-L5, L4: the field of view ends at L4.
        var labels = new byte[Columns * Rows];
        void Rows_(int from, int to, byte label)
        {
            for (var r = from; r <= to; r++)
            {
                for (var c = 5; c < 25; c++)
                {
                    labels[c + Columns * r] = label;
                }
            }
        }
        Rows_(120, 129, LabelClasses.Vertebra);
        Rows_(116, 118, LabelClasses.Disc);
        Rows_(106, 114, LabelClasses.Vertebra);
        Rows_(102, 104, LabelClasses.Disc);
        Rows_(92, 100, LabelClasses.Vertebra);
        var volume = new Volume<byte>(
            new VolumeGeometry(Columns, Rows, 1, new Vec3(1, 1, 4), new Vec3(0, 0, 200), new Direction3(new Vec3(0, 1, 0), new Vec3(0, 0, -1), new Vec3(-1, 0, 0))),
            labels);

        var map = LumbarLevelLabeller.Assign(volume, [0]);

        LumbarLevelLabeller.LevelName(map[10 + Columns * 125]).Should().Be("other vertebrae");
        LumbarLevelLabeller.LevelName(map[10 + Columns * 117]).Should().Be("L5-S1");
        LumbarLevelLabeller.LevelName(map[10 + Columns * 110]).Should().Be("L5");
        LumbarLevelLabeller.LevelName(map[10 + Columns * 103]).Should().Be("L4-L5");
        LumbarLevelLabeller.LevelName(map[10 + Columns * 95]).Should().Be("L4");
    }

    [Fact]
    public async Task Per_level_segments_on_the_phantom_make_a_valid_seg_that_keeps_every_voxel()
    {
        var source = series.Phantom;
        var writer = new SegmentationWriter(new SegmentationWriterOptions { PerLevelSegments = true });
        var result = writer.Write(source.Instances(), source.Labels, SourceSliceSelection.All, WrittenSeg.Algorithm);
        using var temp = new TempDirectory("spineseg-levels");
        var path = temp.Combine("levels.dcm");
        SegmentationWriter.Save(result.Dataset, path);

        await DciodvfyCheck.AssertValidAsync(path, "per-level SEG", output);
        var segments = result.Dataset.GetSequence(DicomTags.SegmentSequence)!.Items;
        segments.Select(s => s.GetString(DicomTags.SegmentLabel)).Should().Equal(
            "Spinal canal", "L1", "L2", "L3", "L4", "L5", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1", "Other vertebrae", "Other intervertebral discs");
        segments.Select(s => s.GetUInt16(DicomTags.SegmentNumber)).Should().Equal(Enumerable.Range(1, 13).Select(n => (ushort?)n));
        segments[10].GetSequence(DicomTags.SegmentedPropertyTypeCodeSequence)!.Items[0].GetString(DicomTags.CodeValue).Should().Be("715056000");

        // Decoded: the level segments of each class add up to the class mask, voxel for voxel.
        var decoded = SegmentationReader.Read(path).ToSourceGrid(SpineSegDiff.Imaging.Preprocessing.SeriesVolume.Build(source.Instances()).Slices);
        bool[] Union(IEnumerable<int> numbers) =>
            Enumerable.Range(0, source.Labels.Voxels.Length).Select(n => numbers.Any(s => decoded.TryGetValue(s, out var m) && m[n] != 0)).ToArray();
        Union([2, 3, 4, 5, 6, 12]).Should().Equal(source.Labels.Voxels.Select(v => v == LabelClasses.Vertebra));
        Union([7, 8, 9, 10, 11, 13]).Should().Equal(source.Labels.Voxels.Select(v => v == LabelClasses.Disc));
        // The phantom shows the whole lumbar spine: every level is there, and vertebrae are of similar size (a level
        // rule that merged or skipped vertebrae would leave one empty and another double).
        var vertebraVoxels = new List<int>();
        for (var number = 2; number <= 11; number++)
        {
            decoded.Should().ContainKey(number, $"{LumbarLevelLabeller.LevelName((byte)number)} is in every lumbar phantom");
            if (number <= 6)
            {
                vertebraVoxels.Add(decoded[number].Count(b => b != 0));
            }
        }
        vertebraVoxels.Max().Should().BeLessThan(2 * vertebraVoxels.Min());
        output.WriteLine(string.Join(", ", decoded.Select(d => $"{LumbarLevelLabeller.LevelName((byte)d.Key)}: {d.Value.Count(b => b != 0)} voxels")));
    }
}
