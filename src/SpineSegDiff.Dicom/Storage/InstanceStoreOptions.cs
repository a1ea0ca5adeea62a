namespace SpineSegDiff.Dicom.Storage;

/// <summary>Where and how received instances are kept.</summary>
public sealed class InstanceStoreOptions
{
    /// <summary>Root folder of the store; received files live under "instances/", transfers in progress under ".incoming/".</summary>
    public string RootDirectory { get; set; } = "storage";

    /// <summary>Flush each instance to disk (fsync) before answering Success. Only tests should turn this off.</summary>
    public bool FlushToDisk { get; set; } = true;

    /// <summary>
    /// Below this much free space (MB of 2^20 bytes) on the store's file system, new associations are refused with a
    /// transient A-ASSOCIATE-RJ so senders retry later rather than fill the disk; 0 turns the guard off.
    /// </summary>
    public long MinimumFreeDiskMegabytes { get; set; } = 1024;

    /// <summary>The largest minimum whose byte count still fits a long.</summary>
    public const long MaxMinimumFreeDiskMegabytes = long.MaxValue >> 20;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(RootDirectory))
        {
            errors.Add("Storage:RootDirectory must name a folder.");
        }
        else if (RootDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            errors.Add("Storage:RootDirectory contains characters that are not allowed in a path.");
        }
        if (MinimumFreeDiskMegabytes is < 0 or > MaxMinimumFreeDiskMegabytes)
        {
            errors.Add($"Storage:MinimumFreeDiskMegabytes must be between 0 (off) and {MaxMinimumFreeDiskMegabytes} (got {MinimumFreeDiskMegabytes}).");
        }
        return errors;
    }
}
