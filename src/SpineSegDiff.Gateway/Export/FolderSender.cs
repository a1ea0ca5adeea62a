namespace SpineSegDiff.Gateway.Export;

/// <summary>
/// Delivers into a local folder as <c>&lt;Path&gt;/&lt;item id&gt;/&lt;file name&gt;</c> (our own names, never UIDs). Each file is
/// written to a temporary name, fsynced and renamed, so a reader of the folder never sees half a file.
/// </summary>
public sealed class FolderSender : IExportSender
{
    private readonly string _root;

    public FolderSender(string destinationName, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destinationName);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        DestinationName = destinationName;
        _root = System.IO.Path.GetFullPath(path);
    }

    public string DestinationName { get; }

    public async Task<ExportSendResult> SendAsync(string itemId, IReadOnlyList<ExportSendFile> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!ExportQueue.IsItemId(itemId))
        {
            throw new ArgumentException("Not an export item id.", nameof(itemId));
        }
        var delivered = new List<string>();
        var folder = System.IO.Path.Combine(_root, itemId);
        foreach (var file in files)
        {
            // Between files, not inside one: what was delivered is reported, the rest stays queued.
            if (cancellationToken.IsCancellationRequested)
            {
                return new ExportSendResult(delivered, ExportFailure.Transient("Cancelled by shutdown"));
            }
            try
            {
                Directory.CreateDirectory(folder);
                var target = System.IO.Path.Combine(folder, file.Name);
                var temp = System.IO.Path.Combine(folder, "." + file.Name + ".tmp");
                File.Delete(temp);
                await DurableFiles.CopyAsync(file.Path, temp, CancellationToken.None).ConfigureAwait(false);
                File.Move(temp, target, overwrite: true);
                DurableFiles.FlushDirectory(folder);
                delivered.Add(file.Name);
            }
            catch (DirectoryNotFoundException) when (!File.Exists(file.Path))
            {
                return new ExportSendResult(delivered, ExportFailure.Permanent("The queued file is missing"));
            }
            catch (FileNotFoundException) when (!File.Exists(file.Path))
            {
                return new ExportSendResult(delivered, ExportFailure.Permanent("The queued file is missing"));
            }
            catch (UnauthorizedAccessException)
            {
                return new ExportSendResult(delivered, ExportFailure.Permanent("No permission to write into the destination folder"));
            }
            catch (IOException ex)
            {
                // Disk full, share gone: may recover.
                return new ExportSendResult(delivered, ExportFailure.Transient("Writing into the destination folder failed: " + ex.GetType().Name));
            }
        }
        return new ExportSendResult(delivered, null);
    }
}
