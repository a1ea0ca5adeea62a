using System.Buffers.Binary;
using System.Diagnostics;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Tests.Fuzzing;
using Xunit.Abstractions;

namespace SpineSegDiff.Dicom.Tests.Network;

/// <summary>
/// Mutation fuzzing of the PDU decoder, the stream reader and the DIMSE reassembly behind them: valid PDUs mutated by
/// bit flips, byte replacements, PDU and item length corruption (big-endian, as PS3.8 encodes them), truncation,
/// splices and garbage tails. Only <see cref="DicomFormatException"/> may escape and every input must finish fast.
/// SPINESEG_FUZZ_ITERATIONS sets the count (default 10,000); SPINESEG_FUZZ_SEED the seed.
/// </summary>
public class PduFuzzTests(ITestOutputHelper output)
{
    // PS3.8 encodes lengths big-endian; on top of the generic operators: the PDU length field, the PDU type, a garbage tail.
    private static readonly Mutator Mutations = new(
        bigEndian: true,
        [0, 1, 2, 3, 4, 5, 6, 0x44, 0x7F, 0xFF, 0x100, 0xFFFF, 0x10000, 0x40000, 0x40001, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF],
        CorruptPduLength,
        CorruptPduType,
        AppendGarbage);

    [Fact]
    public async Task Mutated_pdus_only_ever_raise_the_documented_exception()
    {
        var seeds = Seeds();
        foreach (var seed in seeds)
        {
            // Warm-up: one-time costs (JIT, the data dictionary's tables) are not the decoder's per-input cost.
            await DecodeEverythingAsync(seed);
        }
        var random = new Random(FuzzSettings.Seed);
        var iterations = FuzzSettings.Iterations;
        int decoded = 0, rejected = 0;
        long worstTicks = 0, worstAllocation = 0;
        var worstAllocationInput = -1;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            var input = Mutations.Mutate(seeds[i % seeds.Count], random, maxRounds: 3);
            var sw = Stopwatch.StartNew();
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                if (await DecodeEverythingAsync(input))
                {
                    decoded++;
                }
                else
                {
                    rejected++;
                }
            }
            catch (Exception ex)
            {
                var path = Path.Combine(Path.GetTempPath(), $"spineseg-fuzz-pdu-{i}.bin");
                await File.WriteAllBytesAsync(path, input);
                throw new Xunit.Sdk.XunitException($"Input {i} raised {ex.GetType().Name}: {ex.Message} (saved to {path})\n{ex.StackTrace}");
            }
            worstTicks = Math.Max(worstTicks, sw.ElapsedTicks);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > worstAllocation)
            {
                worstAllocation = allocated;
                worstAllocationInput = i;
            }
        }
        var slowestMs = worstTicks * 1000.0 / Stopwatch.Frequency;
        output.WriteLine($"{iterations} inputs (seed {FuzzSettings.Seed}): {decoded} decoded, {rejected} rejected with DicomFormatException; " +
                         $"total {total.ElapsedMilliseconds} ms, slowest {slowestMs:F2} ms, most allocated {worstAllocation / 1024} KiB (input {worstAllocationInput})");
        rejected.Should().BeGreaterThan(iterations / 10, "a fuzzer that rarely breaks the input is not testing anything");
        decoded.Should().BeGreaterThan(0, "some mutations keep the input valid and must still decode");
        slowestMs.Should().BeLessThan(1000, "no input may make the decoder spin");
        worstAllocation.Should().BeLessThan(8L << 20, "no declared length may turn into a large allocation");
    }

    /// <summary>
    /// Runs the input through every decoding path: the pure decoder, the stream reader (which may find several PDUs),
    /// and DIMSE reassembly plus command decoding of any P-DATA. Returns false when a DicomFormatException was raised.
    /// </summary>
    private static async Task<bool> DecodeEverythingAsync(byte[] input)
    {
        var ok = true;
        try
        {
            PduDecoder.Decode(input, SamplePdus.Limits);
        }
        catch (DicomFormatException)
        {
            ok = false;
        }
        try
        {
            var reader = new PduReader(new MemoryStream(input, writable: false), SamplePdus.Limits);
            var assembler = new DimseMessageAssembler(id => id % 2 == 1);
            for (var n = 0; n < 64 && await reader.ReadAsync(CancellationToken.None) is { } pdu; n++)
            {
                if (pdu is PDataTf data)
                {
                    foreach (var pdv in data.Values)
                    {
                        assembler.Accept(pdv);
                    }
                }
                if (pdu is AAssociateRq request)
                {
                    new AssociationNegotiator(new AssociationPolicy
                    {
                        AeTitles = [new CalledAePolicy("SEGNODE", [], [DicomUids.Verification, SamplePdus.MrStorage])],
                        AcceptedTransferSyntaxes = DicomServerOptions.DefaultTransferSyntaxes,
                    }).Negotiate(request);
                }
            }
        }
        catch (DicomFormatException)
        {
            ok = false;
        }
        return ok;
    }

    private static List<byte[]> Seeds()
    {
        var seeds = SamplePdus.All().Select(PduEncoder.Encode).ToList();
        var store = DimseCommand.CreateStoreRequest(1, SamplePdus.MrStorage, "1.2.3.4", moveOriginatorAeTitle: "MOVER", moveOriginatorMessageId: 9).Encode();
        var messages = new PDataTf(
        [
            new PresentationDataValue(3, true, false, store[..20]),
            new PresentationDataValue(3, true, true, store[20..]),
            new PresentationDataValue(3, false, false, new byte[64]),
            new PresentationDataValue(3, false, true, new byte[16]),
        ]);
        seeds.Add(PduEncoder.Encode(messages));
        seeds.Add(PduEncoder.Encode(new PDataTf([new PresentationDataValue(1, true, true, DimseCommand.CreateEchoResponse(5, 0).Encode())])));
        // A whole conversation in one stream: association, echo, release.
        seeds.Add(SamplePdus.Concat(PduEncoder.Encode(SamplePdus.Request()),
            PduEncoder.Encode(new PDataTf([new PresentationDataValue(1, true, true, DimseCommand.CreateEchoRequest(1).Encode())])),
            PduEncoder.Encode(new AReleaseRq())));
        return seeds;
    }

    private static byte[] CorruptPduLength(byte[] data, Random random)
    {
        if (data.Length >= 6)
        {
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(2), Mutations.InterestingLength(random, data.Length));
        }
        return data;
    }

    private static byte[] CorruptPduType(byte[] data, Random random)
    {
        data[0] = (byte)random.Next(10);
        return data;
    }

    private static byte[] AppendGarbage(byte[] data, Random random)
    {
        var tail = new byte[random.Next(1, 32)];
        random.NextBytes(tail);
        return [.. data, .. tail];
    }
}
