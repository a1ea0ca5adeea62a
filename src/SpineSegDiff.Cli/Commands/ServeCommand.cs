using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Status;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg serve</c>: runs the node until stopped. Settings come from appsettings.json, then environment variables
/// (SPINESEG_ prefix, e.g. SPINESEG_Dicom__Port=104), then the command line; all are validated before anything starts.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var aet = new Option<string?>("--aet") { Description = "AE title the node answers to (Dicom:AeTitle, default SEGNODE; not with Dicom:AeTitles)." };
        var port = new Option<int?>("--port") { Description = "TCP port of the DICOM listener (Dicom:Port, default 11112)." };
        var storage = new Option<string?>("--storage") { Description = "Folder of the instance store (Storage:RootDirectory, default ./storage)." };
        var config = new Option<string?>("--config") { Description = "An extra JSON configuration file, applied after appsettings.json." };
        var role = new Option<NodeRole>("--role") { Description = "all (default: gateway and worker in one process), gateway or worker (separate processes on RabbitMQ).", DefaultValueFactory = _ => NodeRole.All };
        var command = new Command("serve", "Run the node (Storage SCP, series assembly, routing, segmentation worker, export) until stopped.") { aet, port, storage, config, role };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(aet), parse.GetValue(port), parse.GetValue(storage), parse.GetValue(config), parse.GetValue(role), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? aet, int? port, string? storage, string? configFile, NodeRole role, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>();
        if (aet is not null)
        {
            overrides["Dicom:AeTitle"] = aet;
        }
        if (port is not null)
        {
            overrides["Dicom:Port"] = port.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (storage is not null)
        {
            overrides["Storage:RootDirectory"] = storage;
        }
        if (configFile is not null && !File.Exists(configFile))
        {
            await Console.Error.WriteLineAsync($"Configuration error: the file {configFile} does not exist.").ConfigureAwait(false);
            return ExitCodes.ConfigurationError;
        }

        var builder = NodeHost.CreateBuilder(configFile, overrides, role);

        IHost host;
        try
        {
            host = builder.Build();
        }
        catch (InvalidOperationException ex)
        {
            // Binding failures (e.g. "abc" for a port) surface here.
            await Console.Error.WriteLineAsync("Configuration error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.ConfigurationError;
        }
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("Configuration error: " + failure).ConfigureAwait(false);
            }
            return ExitCodes.ConfigurationError;
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync("Configuration error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.ConfigurationError;
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            await Console.Error.WriteLineAsync($"Cannot listen: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.ConfigurationError;
        }
        if (role == NodeRole.Worker)
        {
            await Console.Out.WriteLineAsync("Ready. Worker waiting for segmentation jobs on the bus." + Environment.NewLine + "Stop with Ctrl+C.").ConfigureAwait(false);
        }
        else
        {
            var options = host.Services.GetRequiredService<IOptions<DicomServerOptions>>().Value;
            var status = host.Services.GetRequiredService<IOptions<StatusOptions>>().Value;
            if (status.IsServed)
            {
                var endPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(status.BindAddress), status.Port);
                await Console.Out.WriteLineAsync($"Status page: http://{endPoint}/ (health: /health/live, /health/ready)").ConfigureAwait(false);
            }
            await Console.Out.WriteLineAsync(
                $"Ready. Send a study from another terminal:  ./spineseg send --host 127.0.0.1 --port {options.Port} --called-aet {options.AllAeTitles()[0]} samples/mr-lumbar-sagittal"
                + Environment.NewLine + "Stop with Ctrl+C.").ConfigureAwait(false);
        }
        // Returns after Ctrl+C / SIGTERM, once the host has stopped every service.
        await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        host.Dispose();
        return ExitCodes.Success;
    }
}
