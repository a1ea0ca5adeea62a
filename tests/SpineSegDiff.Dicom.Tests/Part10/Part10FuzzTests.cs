using System.Diagnostics;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using Xunit.Abstractions;

namespace SpineSegDiff.Dicom.Tests.Part10;

/// <summary>
/// Mutation fuzzing of the Part 10 reader: valid files in every syntax, mutated by bit flips, byte overwrites with
/// interesting values, length-field corruption, splices and truncation. Only <see cref="DicomFormatException"/> may
/// escape; each input must finish quickly and allocate a bounded amount. SPINESEG_FUZZ_ITERATIONS sets the count
/// (CI: 10,000); SPINESEG_FUZZ_SEED changes the seed for longer exploratory runs.
/// </summary>
public class Part10FuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Mutated_files_only_ever_raise_the_documented_exception()
    {
        var iterations = FuzzSettings.Iterations;
        var random = new Random(FuzzSettings.Seed);
        var seeds = new[]
        {
            Part10RoundTripTests.ToPart10(TestDatasets.EveryVR(), DicomTransferSyntax.ExplicitVRLittleEndian),
            Part10RoundTripTests.ToPart10(TestDatasets.EveryVR(), DicomTransferSyntax.ImplicitVRLittleEndian),
            Part10RoundTripTests.ToPart10(TestDatasets.EveryVR(), DicomTransferSyntax.DeflatedExplicitVRLittleEndian),
            Part10RoundTripTests.ToPart10(TestDatasets.MrImage(rows: 8, columns: 8), DicomTransferSyntax.ExplicitVRLittleEndian),
        };
        int accepted = 0, rejected = 0;
        long worstTicks = 0, worstAllocation = 0;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            var input = Mutator.Mutate(seeds[i % seeds.Length], random);
            var sw = Stopwatch.StartNew();
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                DicomFile.Read(new MemoryStream(input));
                accepted++;
            }
            catch (DicomFormatException)
            {
                rejected++;
            }
            catch (Exception ex)
            {
                File.WriteAllBytes(Path.Combine(Path.GetTempPath(), $"spineseg-fuzz-part10-{i}.dcm"), input);
                throw new Xunit.Sdk.XunitException($"Input {i} raised {ex.GetType().Name}: {ex.Message} (saved to the temp folder)");
            }
            worstTicks = Math.Max(worstTicks, sw.ElapsedTicks);
            worstAllocation = Math.Max(worstAllocation, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        output.WriteLine($"{iterations} inputs: {accepted} decoded, {rejected} rejected with DicomFormatException, " +
                         $"total {total.ElapsedMilliseconds} ms, slowest {worstTicks * 1000.0 / Stopwatch.Frequency:F1} ms, most allocated {worstAllocation / 1024} KiB");
        rejected.Should().BeGreaterThan(0, "a fuzzer that never breaks the input is not testing anything");
        (worstTicks * 1000.0 / Stopwatch.Frequency).Should().BeLessThan(2000, "no input may make the reader spin");
        worstAllocation.Should().BeLessThan(64L << 20, "no input may make the reader allocate without bound");
    }
}

/// <summary>Shared fuzz configuration and mutation operators (also used by the PDU fuzzer).</summary>
public static class FuzzSettings
{
    public static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("SPINESEG_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 10_000;

    public static int Seed =>
        int.TryParse(Environment.GetEnvironmentVariable("SPINESEG_FUZZ_SEED"), out var s) ? s : 20261122;
}

public static class Mutator
{
    private static readonly uint[] InterestingLengths = [0, 1, 2, 3, 0x7F, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF];

    public static byte[] Mutate(byte[] seed, Random random)
    {
        var data = (byte[])seed.Clone();
        var rounds = 1 + random.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            switch (random.Next(7))
            {
                case 0: // bit flip
                    var bit = random.Next(data.Length * 8);
                    data[bit / 8] ^= (byte)(1 << (bit % 8));
                    break;
                case 1: // random byte
                    data[random.Next(data.Length)] = (byte)random.Next(256);
                    break;
                case 2: // interesting 32-bit value (lengths, undefined length, huge)
                    var at = random.Next(Math.Max(1, data.Length - 4));
                    BitConverter.TryWriteBytes(data.AsSpan(at, Math.Min(4, data.Length - at)), InterestingLengths[random.Next(InterestingLengths.Length)]);
                    break;
                case 3: // 16-bit length field
                    var at16 = random.Next(Math.Max(1, data.Length - 2));
                    BitConverter.TryWriteBytes(data.AsSpan(at16, Math.Min(2, data.Length - at16)), (ushort)InterestingLengths[random.Next(InterestingLengths.Length)]);
                    break;
                case 4: // truncate
                    data = data[..random.Next(data.Length)];
                    break;
                case 5: // duplicate a chunk (splice)
                    var from = random.Next(data.Length);
                    var len = random.Next(Math.Min(64, data.Length - from) + 1);
                    var to = random.Next(data.Length);
                    data = [.. data[..to], .. data.AsSpan(from, len), .. data[to..]];
                    break;
                default: // delete a chunk
                    var start = random.Next(data.Length);
                    var count = random.Next(Math.Min(32, data.Length - start) + 1);
                    data = [.. data[..start], .. data[(start + count)..]];
                    break;
            }
            if (data.Length == 0)
            {
                break;
            }
        }
        return data;
    }
}
