namespace SpineSegDiff.Segmentation.Native;

/// <summary>A call into the native segmentation engine failed; carries the engine's own code and message.</summary>
public sealed class NativeModelException : Exception
{
    public NativeModelException(NativeStatus status, string operation, string nativeMessage, Exception? inner = null)
        : base($"{operation} failed ({status}): {nativeMessage}", inner)
    {
        Status = status;
        Operation = operation;
        NativeMessage = nativeMessage;
    }

    public NativeStatus Status { get; }

    public string Operation { get; }

    /// <summary>The message the native library reported (ssn_last_error), unchanged.</summary>
    public string NativeMessage { get; }
}
