namespace SpineSegDiff.Dicom.Network;

/// <summary>Runs a network operation under a deadline measured by a <see cref="TimeProvider"/> (so tests can control time).</summary>
internal static class Timeouts
{
    /// <summary>
    /// Runs <paramref name="operation"/> with a token that fires after <paramref name="timeout"/> or when
    /// <paramref name="outer"/> is cancelled. Expiry of the deadline surfaces as <see cref="TimeoutException"/>;
    /// cancellation of <paramref name="outer"/> as <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async ValueTask<T> RunAsync<T>(TimeProvider time, TimeSpan timeout, CancellationToken outer, Func<CancellationToken, ValueTask<T>> operation)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(outer, deadline.Token);
        try
        {
            return await operation(linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && deadline.IsCancellationRequested && !outer.IsCancellationRequested)
        {
            // A socket operation cancelled by the deadline may report itself as an IOException; either way it timed out.
            throw new TimeoutException($"No progress within {timeout}.", ex);
        }
    }

    public static async ValueTask RunAsync(TimeProvider time, TimeSpan timeout, CancellationToken outer, Func<CancellationToken, ValueTask> operation)
    {
        await RunAsync(time, timeout, outer, async ct =>
        {
            await operation(ct).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
    }
}
