using System.Buffers.Binary;
using System.Diagnostics;
using SpineSegDiff.Dicom.Network;
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
    private static readonly uint[] InterestingLengths = [0, 1, 2, 3, 4, 5, 6, 0x44, 0x7F, 0xFF, 0x100, 0xFFFF, 0x10000, 0x40000, 0x40001, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF];

    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("SPINESEG_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 10_000;

    private static int Seed =>
        int.TryParse(Environment.GetEnvironmentVariable("SPINESEG_FUZZ_SEED"), out var s) ? s : 20261122;

    [Fact]
    public async Task Mutated_pdus_only_ever_raise_the_documented_exception()
    {
        var seeds = Seeds();
        foreach (var seed in seeds)
        {
            // Warm-up: one-time costs (JIT, the data dictionary's tables) are not the decoder's per-input cost.
            await DecodeEverythingAsync(seed);
        }
        var random = new Random(Seed);
        var iterations = Iterations;
        int decoded = 0, rejected = 0;
        long worstTicks = 0, worstAllocation = 0;
        var worstAllocationInput = -1;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            var input = Mutate(seeds[i % seeds.Count], random);
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
        output.WriteLine($"{iterations} inputs (seed {Seed}): {decoded} decoded, {rejected} rejected with DicomFormatException; " +
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
                        CalledAeTitles = ["SEGNODE"],
                        AcceptedAbstractSyntaxes = [DicomUids.Verification, SamplePdus.MrStorage],
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

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var data = (byte[])seed.Clone();
        var rounds = 1 + random.Next(3);
        for (var r = 0; r < rounds && data.Length > 0; r++)
        {
            switch (random.Next(9))
            {
                case 0: // bit flip
                    var bit = random.Next(data.Length * 8);
                    data[bit / 8] ^= (byte)(1 << (bit % 8));
                    break;
                case 1: // byte replacement
                    data[random.Next(data.Length)] = (byte)random.Next(256);
                    break;
                case 2: // the PDU length field
                    if (data.Length >= 6)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(2), Interesting(random, data.Length));
                    }
                    break;
                case 3: // a 16-bit item length anywhere
                    var at16 = random.Next(Math.Max(1, data.Length - 1));
                    if (at16 + 2 <= data.Length)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at16), (ushort)Interesting(random, data.Length));
                    }
                    break;
                case 4: // a 32-bit PDV item length anywhere
                    var at32 = random.Next(Math.Max(1, data.Length - 3));
                    if (at32 + 4 <= data.Length)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(at32), Interesting(random, data.Length));
                    }
                    break;
                case 5: // truncation
                    data = data[..random.Next(data.Length)];
                    break;
                case 6: // splice: duplicate a chunk
                    var from = random.Next(data.Length);
                    var count = random.Next(1, Math.Min(64, data.Length - from) + 1);
                    var to = random.Next(data.Length);
                    data = [.. data[..to], .. data.AsSpan(from, count), .. data[to..]];
                    break;
                case 7: // garbage tail
                    var tail = new byte[random.Next(1, 32)];
                    random.NextBytes(tail);
                    data = [.. data, .. tail];
                    break;
                default: // the PDU type
                    data[0] = (byte)random.Next(10);
                    break;
            }
        }
        return data;
    }

    private static uint Interesting(Random random, int inputLength) =>
        random.Next(4) == 0 ? (uint)random.Next(inputLength + 8) : InterestingLengths[random.Next(InterestingLengths.Length)];
}
