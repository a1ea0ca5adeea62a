using System.Buffers.Binary;

namespace SpineSegDiff.Dicom.Tests.Fuzzing;

/// <summary>Shared fuzz settings: SPINESEG_FUZZ_ITERATIONS (CI: 10,000) and SPINESEG_FUZZ_SEED for longer exploratory runs.</summary>
public static class FuzzSettings
{
    public static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("SPINESEG_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 10_000;

    public static int Seed =>
        int.TryParse(Environment.GetEnvironmentVariable("SPINESEG_FUZZ_SEED"), out var s) ? s : 20261122;
}

/// <summary>
/// Mutation operators for the fuzz tests: bit flips, byte replacements, interesting 16/32-bit length values in the
/// format's byte order, truncation, splices and deletions, plus operators specific to one format.
/// </summary>
public sealed class Mutator(bool bigEndian, uint[] interestingLengths, params Func<byte[], Random, byte[]>[] formatOperations)
{
    private const int GenericOperations = 7;

    public byte[] Mutate(byte[] seed, Random random, int maxRounds = 4)
    {
        var data = (byte[])seed.Clone();
        var rounds = 1 + random.Next(maxRounds);
        for (var r = 0; r < rounds && data.Length > 0; r++)
        {
            var op = random.Next(GenericOperations + formatOperations.Length);
            data = op < GenericOperations ? Generic(op, data, random) : formatOperations[op - GenericOperations](data, random);
        }
        return data;
    }

    /// <summary>A length worth trying: a boundary value, or one near the input's own size.</summary>
    public uint InterestingLength(Random random, int inputLength) =>
        random.Next(4) == 0 ? (uint)random.Next(inputLength + 8) : interestingLengths[random.Next(interestingLengths.Length)];

    private byte[] Generic(int op, byte[] data, Random random)
    {
        switch (op)
        {
            case 0: // bit flip
                var bit = random.Next(data.Length * 8);
                data[bit / 8] ^= (byte)(1 << (bit % 8));
                return data;
            case 1: // byte replacement
                data[random.Next(data.Length)] = (byte)random.Next(256);
                return data;
            case 2: // a 32-bit length field anywhere
                var at32 = random.Next(data.Length);
                if (at32 + 4 <= data.Length)
                {
                    var value = InterestingLength(random, data.Length);
                    if (bigEndian)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(at32), value);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at32), value);
                    }
                }
                return data;
            case 3: // a 16-bit length field anywhere
                var at16 = random.Next(data.Length);
                if (at16 + 2 <= data.Length)
                {
                    var value = (ushort)InterestingLength(random, data.Length);
                    if (bigEndian)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at16), value);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(at16), value);
                    }
                }
                return data;
            case 4: // truncation
                return data[..random.Next(data.Length)];
            case 5: // splice: duplicate a chunk
                var from = random.Next(data.Length);
                var count = random.Next(1, Math.Min(64, data.Length - from) + 1);
                var to = random.Next(data.Length);
                return [.. data[..to], .. data.AsSpan(from, count), .. data[to..]];
            default: // delete a chunk
                var start = random.Next(data.Length);
                var length = random.Next(Math.Min(32, data.Length - start) + 1);
                return [.. data[..start], .. data[(start + length)..]];
        }
    }
}
