using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SpineSegDiff.Dicom.Storage;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>
/// Readiness: the store takes a new file. A read-only remount or a permissions change would otherwise show up only as
/// C-STORE failures (0xA700) at the next study.
/// </summary>
internal sealed class StoreWritableHealthCheck(IOptions<InstanceStoreOptions> options) : IHealthCheck
{
    public const string Name = "store";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(options.Value.RootDirectory);
        // A fresh name each time: two probes at once must not trip over each other's file.
        var probe = Path.Combine(root, $".health-{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await stream.WriteAsync("ok"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            }
            File.Delete(probe);
            return HealthCheckResult.Healthy($"{root} is writable");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy($"cannot write to the store {root}: {ex.Message}");
        }
    }
}

/// <summary>
/// Readiness: free space above Storage:MinimumFreeDiskMegabytes, the same limit below which the Storage SCP refuses
/// associations (transiently), so "not ready" and "refusing studies" mean the same thing.
/// </summary>
internal sealed class FreeDiskHealthCheck(IOptions<InstanceStoreOptions> options, IFreeSpaceProbe? probe = null) : IHealthCheck
{
    public const string Name = "free-disk";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var c = CultureInfo.InvariantCulture;
        var minimum = options.Value.MinimumFreeDiskMegabytes;
        var root = Path.GetFullPath(options.Value.RootDirectory);
        var available = (probe ?? FileSystemFreeSpaceProbe.Instance).AvailableBytes(root);
        if (minimum <= 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy("the free-disk guard is off (Storage:MinimumFreeDiskMegabytes = 0)"));
        }
        if (available is not { } bytes)
        {
            // As the SCP does: what cannot be measured does not stop the node.
            return Task.FromResult(HealthCheckResult.Healthy("free space cannot be measured"));
        }
        var megabytes = bytes >> 20;
        var text = string.Create(c, $"{megabytes} MB free, {minimum} MB required");
        return Task.FromResult(megabytes >= minimum ? HealthCheckResult.Healthy(text) : HealthCheckResult.Unhealthy(text));
    }
}
