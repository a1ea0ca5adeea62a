using System.Net.Sockets;

namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>Bounded polling until a started peer is usable.</summary>
internal static class PeerReadiness
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Polls until <paramref name="probe"/> returns true. Fails early, with the peer's output,
    /// if the process dies (e.g. port taken, bad config) instead of waiting out the timeout.
    /// </summary>
    public static async Task WaitAsync(
        ExternalProcess process,
        Func<CancellationToken, Task<bool>> probe,
        TimeSpan timeout,
        string what,
        CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new InvalidOperationException(
                    $"{what} exited with code {process.ExitCode} before becoming ready.\n{process.Command}\n{process.CombinedOutput}");
            }

            using (var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                attemptCts.CancelAfter(TimeSpan.FromSeconds(2));
                try
                {
                    if (await probe(attemptCts.Token).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (Exception ex) when (ex is SocketException or IOException or HttpRequestException
                                               || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    // Not listening yet.
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"{what} not ready after {timeout.TotalSeconds:F0} s.\n{process.Command}\n{process.CombinedOutput}");
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task<bool> AcceptsTcpAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(Tools.Loopback, port, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
