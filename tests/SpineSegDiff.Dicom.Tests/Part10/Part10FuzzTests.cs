using System.Diagnostics;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Dicom.Tests.Fuzzing;
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
    private static readonly Mutator Mutations = new(bigEndian: false, [0, 1, 2, 3, 0x7F, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF]);

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
            var input = Mutations.Mutate(seeds[i % seeds.Length], random);
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
