using Microsoft.Extensions.Logging;

namespace SpineSegDiff.Gateway.Export;

/// <summary>Builds the sender of each configured destination.</summary>
public static class ExportSenders
{
    public static IReadOnlyList<IExportSender> Create(ExportOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        return (options.Destinations ?? []).Select(d => Create(d, loggerFactory, time)).ToList();
    }

    public static IExportSender Create(ExportDestinationOptions destination, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var name = destination.Name.Trim();
        return destination.ParsedKind switch
        {
            ExportDestinationKind.Dicom => new DicomStoreSender(name, destination.ToClientOptions(), loggerFactory, time),
            ExportDestinationKind.Folder => new FolderSender(name, destination.Path!),
            _ => throw new InvalidOperationException($"Unknown export destination kind '{destination.Kind}'."),
        };
    }
}
