using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;
using SpineSegDiff.Gateway.Assembly;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>Runs the Storage SCP over the instance store for the lifetime of the host.</summary>
internal sealed partial class DicomNodeService(
    IOptions<DicomServerOptions> serverOptions,
    InstanceStore store,
    SeriesAssembler assembler,
    ILoggerFactory loggerFactory,
    IMeterFactory meterFactory,
    ILogger<DicomNodeService> logger) : IHostedService, IAsyncDisposable
{
    private DicomServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = serverOptions.Value;
        _server = new DicomServer(options, store, loggerFactory, meterFactory: meterFactory);
        _server.AssociationEnded += (_, association) => assembler.OnAssociationEnded(association);
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
        LogListening(string.Join(", ", options.AllAeTitles()), _server.LocalEndPoint.ToString(), store.RootDirectory);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
            LogStopped();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "DICOM node {AeTitles} listening on {EndPoint}, storing under {StoreRoot}")]
    private partial void LogListening(string aeTitles, string endPoint, string storeRoot);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "DICOM node stopped")]
    private partial void LogStopped();
}
