namespace SpineSegDiff.Worker;

/// <summary>
/// Paths in the store the gateway and workers share: messages carry paths relative to its root, results go to
/// results/{correlation id}/ (a Guid of ours, never a UID).
/// </summary>
public sealed class ResultStore(string rootDirectory)
{
    public const string ResultsFolder = "results";

    public string RootDirectory { get; } = Path.GetFullPath(rootDirectory);

    /// <summary>The absolute path of a store-relative path; refuses paths that leave the store.</summary>
    public string InStore(string relativePath)
    {
        var full = Path.GetFullPath(Path.Combine(RootDirectory, relativePath));
        if (!full.StartsWith(RootDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new FileNotFoundException("A path in the job points outside the store.");
        }
        return full;
    }

    public string DirectoryFor(Guid correlationId) => Path.Combine(RootDirectory, ResultsFolder, correlationId.ToString("N"));

    public string Relative(string path) => Path.GetRelativePath(RootDirectory, path);
}
