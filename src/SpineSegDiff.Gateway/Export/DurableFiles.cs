using System.Runtime.InteropServices;

namespace SpineSegDiff.Gateway.Export;

/// <summary>
/// Crash-safe file operations: data is fsynced before it is renamed into place, and the directory holding the new name
/// is fsynced after the rename, so after a power loss a name either points at complete data or does not exist.
/// </summary>
internal static partial class DurableFiles
{
    private const int ReadOnlyDirectoryFlags = 0x10000; // O_RDONLY | O_DIRECTORY on Linux

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> through a temporary file beside it.</summary>
    public static async Task WriteAtomicallyAsync(string path, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, "." + Path.GetFileName(path) + ".tmp");
        var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        FlushDirectory(directory);
    }

    /// <summary>Copies a file and fsyncs the copy (not its directory: the caller renames a whole folder afterwards).</summary>
    public static async Task CopyAsync(string source, string target, CancellationToken cancellationToken)
    {
        var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (input.ConfigureAwait(false))
        {
            var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (output.ConfigureAwait(false))
            {
                await input.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }
        }
    }

    /// <summary>Renames a file or folder and makes both the old and new parent directory entries durable.</summary>
    public static void MoveDirectory(string source, string target)
    {
        Directory.Move(source, target);
        FlushDirectory(Path.GetDirectoryName(target)!);
        FlushDirectory(Path.GetDirectoryName(source)!);
    }

    /// <summary>
    /// fsync of a directory, which .NET has no API for. Best effort: on systems without open(2)/fsync(2) semantics
    /// for directories the rename is still atomic, only its durability across power loss is weaker.
    /// </summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var fd = Open(directory, ReadOnlyDirectoryFlags);
        if (fd < 0)
        {
            return;
        }
        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
