using System.Runtime.InteropServices;
using System.Text;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>
/// Makes every thread of the process allocate from glibc's main arena (GLIBC_TUNABLES glibc.malloc.arena_max=1).
/// The node runs a job on whichever thread-pool thread the bus gives it; glibc serves such a thread from a secondary
/// arena, whose heaps are at most 64 MiB, so every activation tensor of a batch-15 diffusion step (hundreds of MiB) is
/// a fresh mmap, page-faulted and unmapped again. Measured with <c>spineseg demo --profile paper</c> on 2 cores: the
/// denoiser took 75 s that way and 21 s with one arena (bench-segment, on the main thread, 18 s). mallopt cannot
/// help once threads are attached to their arenas, which happens before Main, so the tunable has to be in the
/// environment when the process starts: if it is not, the program replaces itself (execve: same PID, arguments and
/// streams, so service managers and tests that signal it by PID see no difference) with the tunable added.
/// </summary>
internal static partial class AllocatorArenas
{
    public const string TunablesVariable = "GLIBC_TUNABLES";
    public const string ArenaMaxTunable = "glibc.malloc.arena_max";

    /// <summary>Set to 1 to keep the process as started (e.g. to measure the difference).</summary>
    public const string OptOutVariable = "SPINESEG_KEEP_MALLOC_ARENAS";

    /// <summary>Returns only if no re-exec was needed or it failed; on success the process image is replaced.</summary>
    public static void EnsureSingleArena()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(OptOutVariable) == "1")
        {
            return;
        }
        var tunables = Environment.GetEnvironmentVariable(TunablesVariable) ?? string.Empty;
        if (tunables.Contains(ArenaMaxTunable, StringComparison.Ordinal))
        {
            return;
        }
        string executable;
        string[] arguments;
        try
        {
            executable = File.ResolveLinkTarget("/proc/self/exe", returnFinalTarget: true)?.FullName ?? "/proc/self/exe";
            arguments = File.ReadAllText("/proc/self/cmdline", Encoding.UTF8).TrimEnd('\0').Split('\0');
        }
        catch (IOException)
        {
            return;
        }
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => (string)e.Key != TunablesVariable)
            .Select(e => $"{e.Key}={e.Value}")
            .Append($"{TunablesVariable}={(tunables.Length > 0 ? tunables + ":" : string.Empty)}{ArenaMaxTunable}=1")
            .ToList();
        Execute(executable, arguments, environment);
    }

    private static unsafe void Execute(string executable, IReadOnlyList<string> arguments, IReadOnlyList<string> environment)
    {
        var argv = ToNative(arguments);
        var envp = ToNative(environment);
        try
        {
            fixed (nint* argvPointer = argv)
            fixed (nint* envpPointer = envp)
            {
                // Returns only on failure (the process keeps running as it is, just slower on CPU inference).
                _ = ExecVe(executable, argvPointer, envpPointer);
            }
        }
        finally
        {
            Free(argv);
            Free(envp);
        }
    }

    /// <summary>A NULL-terminated array of UTF-8 strings, as execve wants it.</summary>
    private static nint[] ToNative(IReadOnlyList<string> values)
    {
        var native = new nint[values.Count + 1];
        for (var i = 0; i < values.Count; i++)
        {
            native[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
        }
        return native;
    }

    private static void Free(nint[] values)
    {
        foreach (var value in values.Where(v => v != 0))
        {
            Marshal.FreeCoTaskMem(value);
        }
    }

    [LibraryImport("libc", EntryPoint = "execve", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int ExecVe(string path, nint* argv, nint* envp);
}
