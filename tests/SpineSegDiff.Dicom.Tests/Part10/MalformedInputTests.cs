using System.Buffers.Binary;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;

namespace SpineSegDiff.Dicom.Tests.Part10;

public class MalformedInputTests
{
    private static readonly byte[] ValidExplicit = Part10RoundTripTests.ToPart10(TestDatasets.EveryVR(), DicomTransferSyntax.ExplicitVRLittleEndian);

    [Fact]
    public void Every_truncation_fails_or_yields_a_prefix_of_the_dataset()
    {
        // A top-level dataset may legally end between two elements, so a cut exactly there reads as the elements
        // before it; a cut anywhere else must raise the documented exception, never something else.
        var original = DicomFile.Read(new MemoryStream(ValidExplicit)).Dataset.ToList();
        int thrown = 0, prefixes = 0;
        for (var length = 0; length < ValidExplicit.Length; length++)
        {
            try
            {
                var read = DicomFile.Read(new MemoryStream(ValidExplicit, 0, length)).Dataset.ToList();
                read.Count.Should().BeLessThan(original.Count);
                read.Select((item, i) => item.ContentEquals(original[i])).Should().AllBeEquivalentTo(true);
                prefixes++;
            }
            catch (DicomFormatException ex)
            {
                ex.Offset.Should().BeInRange(0, length, "the offset names where the input ran out");
                thrown++;
            }
        }
        prefixes.Should().BeLessThanOrEqualTo(original.Count, "only element boundaries give a readable prefix");
        thrown.Should().Be(ValidExplicit.Length - prefixes);
    }

    [Fact]
    public void Truncation_inside_an_element_names_the_tag()
    {
        var file = DicomFile.Read(new MemoryStream(ValidExplicit));
        var cut = (int)file.DatasetOffset + 30; // inside the first dataset elements
        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(new MemoryStream(ValidExplicit, 0, cut)));
        ex.Message.Should().Contain("at byte");
    }

    [Fact]
    public void Truncated_deflated_files_fail_with_the_documented_exception()
    {
        var deflated = Part10RoundTripTests.ToPart10(TestDatasets.EveryVR(), DicomTransferSyntax.DeflatedExplicitVRLittleEndian);
        var meta = DicomFile.Read(new MemoryStream(deflated)).DatasetOffset;
        // A cut deflate stream may still inflate completely (only the end-of-stream marker lost) or yield a prefix;
        // whatever it yields must be what was written, and a cut in the middle of an element must be reported.
        var original = DicomFile.Read(new MemoryStream(deflated)).Dataset.ToList();
        var thrown = 0;
        for (var length = (int)meta + 1; length < deflated.Length; length += 7)
        {
            try
            {
                var read = DicomFile.Read(new MemoryStream(deflated, 0, length)).Dataset.ToList();
                read.Select((item, i) => item.ContentEquals(original[i])).Should().AllBeEquivalentTo(true);
            }
            catch (DicomFormatException)
            {
                thrown++;
            }
        }
        thrown.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Missing_magic_is_reported()
    {
        var bytes = (byte[])ValidExplicit.Clone();
        bytes[129] = (byte)'X';
        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Read(new MemoryStream(bytes)));
        ex.Offset.Should().Be(128);
    }

    [Fact]
    public void A_declared_length_beyond_the_input_is_an_error_not_an_allocation()
    {
        // (0010,0010) PN with a length far beyond the bytes that follow, in an explicit-VR dataset.
        var element = new byte[] { 0x10, 0x00, 0x10, 0x00, (byte)'U', (byte)'T', 0, 0, 0xF0, 0xFF, 0xFF, 0x7F, 1, 2 };
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<DicomFormatException>(() => DicomDatasetReader.Read(new MemoryStream(element), DicomTransferSyntax.ExplicitVRLittleEndian));
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20);
        ex.Tag.Should().Be(new DicomTag(0x0010, 0x0010));
        ex.Offset.Should().Be(12);
    }

    [Fact]
    public void A_huge_length_on_a_stream_of_unknown_length_does_not_allocate_it()
    {
        var element = new byte[] { 0x10, 0x00, 0x10, 0x00, (byte)'U', (byte)'T', 0, 0, 0xF0, 0xFF, 0xFF, 0x7F, 1, 2 };
        var before = GC.GetAllocatedBytesForCurrentThread();
        var act = () => DicomDatasetReader.Read(new NonSeekableStream(element), DicomTransferSyntax.ExplicitVRLittleEndian);
        act.Should().Throw<DicomFormatException>();
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(8 << 20);
    }

    [Fact]
    public void Sequence_and_item_lengths_are_checked()
    {
        // SQ with a defined length larger than what is left.
        var sq = new byte[] { 0x08, 0x00, 0x40, 0x11, (byte)'S', (byte)'Q', 0, 0, 0x00, 0x10, 0, 0, 0xFE, 0xFF, 0x00, 0xE0 };
        Assert.Throws<DicomFormatException>(() => DicomDatasetReader.Read(new MemoryStream(sq), DicomTransferSyntax.ExplicitVRLittleEndian));
        // An item whose tag is not (FFFE,E000).
        var badItem = new byte[] { 0x08, 0x00, 0x40, 0x11, (byte)'S', (byte)'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x08, 0x00, 0x00, 0x00, 0, 0, 0, 0 };
        Assert.Throws<DicomFormatException>(() => DicomDatasetReader.Read(new MemoryStream(badItem), DicomTransferSyntax.ExplicitVRLittleEndian));
    }

    [Fact]
    public void Deeply_nested_sequences_are_rejected_instead_of_overflowing_the_stack()
    {
        using var ms = new MemoryStream();
        Span<byte> open = stackalloc byte[] { 0x08, 0x00, 0x40, 0x11, (byte)'S', (byte)'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF };
        for (var i = 0; i < 100_000; i++)
        {
            ms.Write(open);
        }
        var ex = Assert.Throws<DicomFormatException>(() => DicomDatasetReader.Read(new MemoryStream(ms.ToArray()), DicomTransferSyntax.ExplicitVRLittleEndian));
        ex.Message.Should().Contain("nested");
    }

    [Fact]
    public void Invalid_vr_bytes_are_reported_with_offset_and_tag()
    {
        var element = new byte[] { 0x10, 0x00, 0x10, 0x00, (byte)'z', (byte)'z', 2, 0, (byte)'A', (byte)' ' };
        var ex = Assert.Throws<DicomFormatException>(() => DicomDatasetReader.Read(new MemoryStream(element), DicomTransferSyntax.ExplicitVRLittleEndian));
        ex.Tag.Should().Be(new DicomTag(0x0010, 0x0010));
        ex.Offset.Should().Be(4);
    }

    [Fact]
    public void A_wrong_meta_group_length_is_reported()
    {
        var bytes = (byte[])ValidExplicit.Clone();
        // Group length value sits at 128 + 4 + 8.
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(140), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(140)) + 40);
        Assert.Throws<DicomFormatException>(() => DicomFile.Read(new MemoryStream(bytes)));
    }

    internal sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
