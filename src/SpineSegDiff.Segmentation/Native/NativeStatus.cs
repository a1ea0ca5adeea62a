namespace SpineSegDiff.Segmentation.Native;

/// <summary>Error codes of the native engine (ssn_status in spineseg_native.h).</summary>
public enum NativeStatus
{
    Ok = 0,
    InvalidArgument = 1,
    Shape = 2,
    Io = 3,
    Checkpoint = 4,
    Device = 5,
    OutOfMemory = 6,
    Torch = 7,
    Unknown = 8,
    /// <summary>Managed-side failure to load the native library or an ABI version mismatch.</summary>
    LibraryUnavailable = 100,
}

/// <summary>Where a network's parameters and computations live.</summary>
public enum ComputeDevice
{
    /// <summary>CUDA when the native library was built with CUDA and a device is visible, else CPU.</summary>
    Auto = 0,
    Cpu = 1,
    Cuda = 2,
}
