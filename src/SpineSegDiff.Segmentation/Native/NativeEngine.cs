using System.Runtime.InteropServices;

namespace SpineSegDiff.Segmentation.Native;

/// <summary>
/// Loads the native engine once per process, checks its ABI version and turns native status codes into
/// <see cref="NativeModelException"/>s with the engine's message.
/// </summary>
internal static unsafe class NativeEngine
{
    // The outcome of the one load attempt; a failed load is remembered so every caller gets the same clear error.
    private static readonly Lazy<NativeModelException?> LoadFailure = new(ProbeLibrary, LazyThreadSafetyMode.ExecutionAndPublication);

    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure)
        {
            throw new NativeModelException(failure.Status, failure.Operation, failure.NativeMessage, failure.InnerException);
        }
    }

    /// <summary>Throws with the thread's native last-error message when <paramref name="status"/> is not success.</summary>
    public static void Check(int status, string operation)
    {
        if (status != 0)
        {
            throw new NativeModelException(ToStatus(status), operation, LastErrorMessage());
        }
    }

    public static string LastErrorMessage()
    {
        var message = Marshal.PtrToStringUTF8((nint)NativeMethods.LastError());
        return string.IsNullOrEmpty(message) ? "(no message)" : message;
    }

    private static NativeStatus ToStatus(int status) =>
        Enum.IsDefined(typeof(NativeStatus), status) ? (NativeStatus)status : NativeStatus.Unknown;

    private static NativeModelException? ProbeLibrary()
    {
        int version;
        try
        {
            version = NativeMethods.AbiVersion();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return new NativeModelException(
                NativeStatus.LibraryUnavailable,
                "loading libspineseg_native",
                "the native segmentation engine could not be loaded (it is built by native/build.sh during the build of "
                + "SpineSegDiff.Segmentation and needs the Debian package libtorch-dev): " + e.Message,
                e);
        }

        return version == NativeMethods.ExpectedAbiVersion
            ? null
            : new NativeModelException(
                NativeStatus.LibraryUnavailable,
                "loading libspineseg_native",
                $"native library ABI version {version} does not match the managed bindings' version "
                + $"{NativeMethods.ExpectedAbiVersion}; rebuild native/ and SpineSegDiff.Segmentation together");
    }
}
