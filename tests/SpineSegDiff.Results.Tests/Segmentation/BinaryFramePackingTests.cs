using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results.Tests.Segmentation;

public sealed class BinaryFramePackingTests
{
    [Fact]
    public void The_first_pixel_goes_into_the_least_significant_bit()
    {
        var frame = new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
        var packed = BinaryFramePacking.Pack([frame], frame.Length);
        packed.Should().Equal(0x01, 0x02);
    }

    [Fact]
    public void Frames_follow_each_other_without_padding_when_the_frame_is_not_a_multiple_of_8()
    {
        // 3x3 frames: the second frame starts at bit 9, i.e. bit 1 of byte 1, not at byte 2.
        var first = new byte[] { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
        var second = new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 1 };
        var packed = BinaryFramePacking.Pack([first, second], 9);
        // Bits 0-8 frame 1, bits 9 and 17 frame 2, then one byte of even-length padding.
        packed.Should().Equal(new byte[] { 0xFF, 0x03, 0x02, 0x00 });
        BinaryFramePacking.Unpack(packed, 1, 9).Should().Equal(second);
        BinaryFramePacking.Unpack(packed, 0, 9).Should().Equal(first);
    }

    [Theory]
    [InlineData(321, 317, 4)]
    [InlineData(512, 512, 3)]
    [InlineData(23, 38, 3)]
    [InlineData(1, 1, 17)]
    public void Random_frames_survive_pack_and_unpack(int rows, int columns, int frameCount)
    {
        var random = new Random(rows * 31 + columns);
        var frames = Enumerable.Range(0, frameCount)
            .Select(_ => Enumerable.Range(0, rows * columns).Select(_ => (byte)random.Next(2)).ToArray())
            .ToList();
        var packed = BinaryFramePacking.Pack(frames, rows * columns);
        packed.Length.Should().Be((int)((BinaryFramePacking.PackedLength(frameCount, rows * columns) + 1) / 2 * 2));
        for (var f = 0; f < frameCount; f++)
        {
            BinaryFramePacking.Unpack(packed, f, rows * columns).Should().Equal(frames[f], $"frame {f}");
        }
    }

    [Fact]
    public void Unpacking_past_the_end_is_refused()
    {
        var act = () => BinaryFramePacking.Unpack(new byte[2], 2, 9);
        act.Should().Throw<ArgumentException>().WithMessage("*ends before frame 3*");
    }
}
