using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

public class PduReaderTests
{
    [Fact]
    public async Task Reads_consecutive_pdus_and_returns_null_at_a_clean_end()
    {
        var bytes = SamplePdus.All().SelectMany(PduEncoder.Encode).ToArray();
        var reader = new PduReader(new MemoryStream(bytes), SamplePdus.Limits);

        var types = new List<PduType>();
        while (await reader.ReadAsync(CancellationToken.None) is { } pdu)
        {
            types.Add(pdu.Type);
        }

        types.Should().Equal(SamplePdus.All().Select(p => p.Type));
        reader.Position.Should().Be(bytes.Length);
    }

    [Fact]
    public async Task Declared_length_over_the_limit_fails_before_the_body_is_read()
    {
        // Only the header exists: a reader that tried to read (or allocate) the body would report truncation instead.
        var stream = new CountingStream(SamplePdus.Header(4, 0x7FFFFFF0));
        var reader = new PduReader(stream, SamplePdus.Limits);

        var act = async () => await reader.ReadAsync(CancellationToken.None);

        (await act.Should().ThrowAsync<DicomFormatException>()).WithMessage("*exceeds the negotiated maximum*");
        stream.BytesRead.Should().Be(6);
        reader.LastErrorReason.Should().Be(AbortReason.InvalidPduParameterValue);
    }

    [Fact]
    public async Task Unknown_type_reports_unrecognized_pdu()
    {
        var reader = new PduReader(new MemoryStream(SamplePdus.Concat(SamplePdus.Header(0x42, 4), [0, 0, 0, 0])), SamplePdus.Limits);
        var act = async () => await reader.ReadAsync(CancellationToken.None);
        await act.Should().ThrowAsync<DicomFormatException>();
        reader.LastErrorReason.Should().Be(AbortReason.UnrecognizedPdu);
    }

    [Fact]
    public async Task Connection_closed_inside_a_pdu_is_a_format_error_with_the_stream_offset()
    {
        var first = PduEncoder.Encode(new AReleaseRq());
        var second = PduEncoder.Encode(SamplePdus.Request());
        var reader = new PduReader(new MemoryStream(SamplePdus.Concat(first, second[..50])), SamplePdus.Limits);

        (await reader.ReadAsync(CancellationToken.None)).Should().BeOfType<AReleaseRq>();
        var act = async () => await reader.ReadAsync(CancellationToken.None);

        (await act.Should().ThrowAsync<DicomFormatException>()).Which.Offset.Should().Be(first.Length + 50);
    }

    [Fact]
    public async Task Connection_closed_inside_a_header_is_a_format_error()
    {
        var reader = new PduReader(new MemoryStream([4, 0, 0]), SamplePdus.Limits);
        var act = async () => await reader.ReadAsync(CancellationToken.None);
        await act.Should().ThrowAsync<DicomFormatException>();
    }

    [Fact]
    public async Task Errors_in_later_pdus_report_offsets_in_the_connection_stream()
    {
        var first = PduEncoder.Encode(SamplePdus.Data());
        var bad = SamplePdus.Concat(SamplePdus.Header(4, 6), [0, 0, 0, 9, 1, 3]);
        var reader = new PduReader(new MemoryStream(SamplePdus.Concat(first, bad)), SamplePdus.Limits);

        await reader.ReadAsync(CancellationToken.None);
        var act = async () => await reader.ReadAsync(CancellationToken.None);

        (await act.Should().ThrowAsync<DicomFormatException>()).Which.Offset.Should().Be(first.Length + 6);
    }

    private sealed class CountingStream(byte[] data) : MemoryStream(data)
    {
        public long BytesRead { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            var n = base.Read(buffer);
            BytesRead += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = base.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }
    }
}
