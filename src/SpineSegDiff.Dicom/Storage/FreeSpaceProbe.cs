namespace SpineSegDiff.Dicom.Storage;

/// <summary>Measures free space on the file system holding a folder (a seam, so tests can simulate a full disk).</summary>
public interface IFreeSpaceProbe
{
    /// <summary>Bytes available to this process on the file system of <paramref name="directory"/>; null when it cannot be measured.</summary>
    long? AvailableBytes(string directory);
}

/// <summary>The real file system: statvfs on Unix (through <see cref="DriveInfo"/>), the volume on Windows.</summary>
public sealed class FileSystemFreeSpaceProbe : IFreeSpaceProbe
{
    public static FileSystemFreeSpaceProbe Instance { get; } = new();

    public long? AvailableBytes(string directory)
    {
        try
        {
            // On Unix DriveInfo takes any path and asks the file system that holds it; on Windows it needs the root.
            var drive = new DriveInfo(OperatingSystem.IsWindows() ? Path.GetPathRoot(Path.GetFullPath(directory))! : directory);
            return drive.AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
