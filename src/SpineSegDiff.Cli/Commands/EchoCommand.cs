using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Cli.Commands;

/// <summary><c>spineseg echo</c>: C-ECHO to a peer; exit 0 when it answers Success.</summary>
internal static class EchoCommand
{
    public static Command Create()
    {
        var peer = new ClientArguments();
        var command = new Command("echo", "Verify a DICOM peer with C-ECHO.");
        peer.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = peer.Bind(parse, out var errors);
            if (errors.Count > 0)
            {
                return await ConsoleReport.ConfigurationErrorsAsync(errors).ConfigureAwait(false);
            }
            var started = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var status = await new EchoScu(options).EchoAsync(cancellationToken).ConfigureAwait(false);
                var ok = DimseStatus.IsSuccess(status);
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"C-ECHO {options.CalledAeTitle}@{options.Host}:{options.Port}: status 0x{status:X4} ({(ok ? "Success" : "Failure")}) in {started.ElapsedMilliseconds} ms")).ConfigureAwait(false);
                return ok ? ExitCodes.Success : ExitCodes.OperationFailed;
            }
            catch (Exception ex) when (ex is DicomNetworkException or SocketException or DicomFormatException)
            {
                return await ConsoleReport.NetworkFailureAsync("C-ECHO", options, ex).ConfigureAwait(false);
            }
        });
        return command;
    }
}
