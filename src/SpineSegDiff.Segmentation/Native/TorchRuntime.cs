namespace SpineSegDiff.Segmentation.Native;

/// <summary>Process-wide settings of the native engine, applied when a <see cref="TorchRuntime"/> is created.</summary>
public sealed record TorchRuntimeOptions
{
    /// <summary>Intra-op threads; null means <see cref="Environment.ProcessorCount"/> (libtorch would default to 1 here).</summary>
    public int? Threads { get; init; }

    /// <summary>Apply the glibc allocator tuning (see docs/benchmarks.md for the measured effect).</summary>
    public bool TuneMalloc { get; init; } = true;
}

/// <summary>
/// The native engine as a process sees it: loads and version-checks libspineseg_native, sets libtorch's thread count
/// and the allocator tuning. Create one at start-up (hosts, CLI commands, test fixtures); the settings it applies are
/// process-wide, so later instances simply re-apply theirs.
/// </summary>
public sealed class TorchRuntime
{
    public TorchRuntime(TorchRuntimeOptions? options = null)
    {
        options ??= new TorchRuntimeOptions();
        NativeEngine.EnsureLoaded();
        var threads = options.Threads ?? Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1, nameof(options));
        NativeEngine.Check(NativeMethods.SetNumThreads(threads), "setting libtorch threads");
        MallocTuned = options.TuneMalloc && GlibcMalloc.ApplyTensorFriendlyTuning();
        NativeEngine.Check(NativeMethods.TorchVersion(out var major, out var minor, out var patch), "reading the libtorch version");
        TorchVersion = $"{major}.{minor}.{patch}";
        NativeEngine.Check(NativeMethods.CudaAvailable(out var cuda), "probing CUDA");
        CudaAvailable = cuda != 0;
    }

    /// <summary>Intra-op threads libtorch uses for calls from this thread.</summary>
    public int Threads
    {
        get
        {
            NativeEngine.Check(NativeMethods.GetNumThreads(out var threads), "reading libtorch threads");
            return threads;
        }
    }

    public bool MallocTuned { get; }

    public string TorchVersion { get; }

    public bool CudaAvailable { get; }

    public int AbiVersion => NativeMethods.ExpectedAbiVersion;

    /// <summary>Seeds libtorch's generators, which makes parameter initialisation of new networks reproducible.</summary>
    public void ManualSeed(ulong seed) => NativeEngine.Check(NativeMethods.ManualSeed(seed), "seeding libtorch");
}
