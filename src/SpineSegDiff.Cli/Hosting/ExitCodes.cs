namespace SpineSegDiff.Cli.Hosting;

/// <summary>Process exit codes shared by all commands, so scripts can tell failures apart.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The operation ran and at least one DICOM operation failed (a rejected association, a failed store).</summary>
    public const int OperationFailed = 1;

    /// <summary>Bad configuration or arguments: nothing was attempted.</summary>
    public const int ConfigurationError = 2;

    /// <summary>The peer could not be reached.</summary>
    public const int Unreachable = 3;
}
