using System.Text.RegularExpressions;

namespace SpineSegDiff.Integration.Tests.Acceptance;

/// <summary>Counting lines in a running peer's log. Also linked into SpineSegDiff.Cli.Tests.</summary>
public static class PeerLog
{
    public static int Count(string log, string text) => Regex.Count(log, Regex.Escape(text));

    /// <summary>
    /// Waits (bounded) until <paramref name="text"/> occurs <paramref name="expected"/> times in a running peer's log,
    /// and returns the final count. The log is read asynchronously, so it may lag behind the files the peer wrote;
    /// it must never exceed <paramref name="expected"/>, which is checked by the caller on the returned count.
    /// </summary>
    public static async Task<int> WaitForCountAsync(Func<string> log, string text, int expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        int count;
        while ((count = Count(log(), text)) < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, cancellationToken);
        }

        // A moment more, so that a surplus (a resent instance) would show too.
        await Task.Delay(200, cancellationToken);
        return Count(log(), text);
    }
}
