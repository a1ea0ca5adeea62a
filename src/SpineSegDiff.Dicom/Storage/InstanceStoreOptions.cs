namespace SpineSegDiff.Dicom.Storage;

/// <summary>Where and how received instances are kept.</summary>
public sealed class InstanceStoreOptions
{
    /// <summary>Root folder of the store; received files live under "instances/", transfers in progress under ".incoming/".</summary>
    public string RootDirectory { get; set; } = "storage";

    /// <summary>Flush each instance to disk (fsync) before answering Success. Only tests should turn this off.</summary>
    public bool FlushToDisk { get; set; } = true;

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
        return errors;
    }
}
