using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>How commands report failures on the terminal, and the exit code that goes with each.</summary>
internal static class ConsoleReport
{
    public static async Task<int> ConfigurationErrorsAsync(IEnumerable<string> errors)
    {
        foreach (var error in errors)
        {
            await Console.Error.WriteLineAsync("Configuration error: " + error).ConfigureAwait(false);
        }
        return ExitCodes.ConfigurationError;
    }

    public static async Task<int> NetworkFailureAsync(string operation, DicomClientOptions options, Exception ex)
    {
        await Console.Error.WriteLineAsync($"{operation} {options.CalledAeTitle}@{options.Host}:{options.Port} failed: {ex.Message}").ConfigureAwait(false);
        return ex switch
        {
            System.Net.Sockets.SocketException => ExitCodes.Unreachable,
            DicomNetworkException { InnerException: System.Net.Sockets.SocketException } => ExitCodes.Unreachable,
            DicomFormatException => ExitCodes.OperationFailed,
            _ => ExitCodes.OperationFailed,
        };
    }
}
