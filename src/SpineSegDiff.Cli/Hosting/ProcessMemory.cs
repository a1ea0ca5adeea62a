using System.Globalization;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>Memory figures of this process for benchmarks (Linux /proc; NaN elsewhere).</summary>
internal static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in MB: what the machine had to have, native allocations included.</summary>
    public static double PeakResidentMegabytes()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return double.NaN;
        }
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kilobytes = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return kilobytes is null ? double.NaN : double.Parse(kilobytes, CultureInfo.InvariantCulture) / 1024;
    }
}
