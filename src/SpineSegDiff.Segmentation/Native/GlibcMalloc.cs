using System.Runtime.InteropServices;

namespace SpineSegDiff.Segmentation.Native;

/// <summary>glibc allocator parameters (mallopt), which libtorch's CPU allocator inherits.</summary>
internal static partial class GlibcMalloc
{
    // Parameter numbers from glibc's malloc.h.
    private const int TrimThreshold = -1;
    private const int TopPad = -2;
    private const int MmapThreshold = -3;
    private const int MmapMax = -4;
    private const int ArenaMax = -8;

    /// <summary>
    /// Keeps freed activation buffers in the heap instead of returning them to the kernel: by default glibc serves
    /// blocks above its mmap threshold with fresh mmaps, so every forward pays page faults and zeroing for tensors it
    /// freed a moment ago. Returns false where the C library is not glibc or refuses a value.
    /// </summary>
    public static bool ApplyTensorFriendlyTuning()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // Activations at batch 15 exceed 32 MiB, glibc's ceiling for the mmap threshold on 64-bit, so mmap is
            // switched off altogether: every block comes from the heap and is reused there.
            var ok = Mallopt(MmapThreshold, 32 * 1024 * 1024) == 1;
            ok &= Mallopt(MmapMax, 0) == 1;
            ok &= Mallopt(TrimThreshold, 1024 * 1024 * 1024) == 1;
            ok &= Mallopt(TopPad, 64 * 1024 * 1024) == 1;
            // One arena, the same as the GLIBC_TUNABLES the spineseg program restarts itself with (Cli AllocatorArenas):
            // a secondary arena's heaps are at most 64 MiB, so a thread served from one would mmap every large tensor.
            ok &= Mallopt(ArenaMax, 1) == 1;
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
