using System.Net;
using System.Net.Sockets;

namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>Free TCP ports on the loopback interface for peers started by a test.</summary>
public static class FreePort
{
    private const int MinimumPort = 10001;
    private const int MaxAttempts = 50;

    /// <summary>One free port above 10000 on 127.0.0.1.</summary>
    public static int Get() => Get(1)[0];

    /// <summary>
    /// <paramref name="count"/> distinct free ports. All listeners stay open until every
    /// port is chosen, so the kernel cannot hand the same port out twice within one call.
    /// The port is free only at the moment of the call: the peer must bind it soon after.
    /// </summary>
    public static IReadOnlyList<int> Get(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var listeners = new List<TcpListener>();
        try
        {
            var ports = new List<int>(count);
            for (var attempt = 0; ports.Count < count; attempt++)
            {
                if (attempt >= MaxAttempts * count)
                {
                    throw new InvalidOperationException($"No free loopback port above {MinimumPort - 1} after {attempt} attempts.");
                }

                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                // The Linux ephemeral range starts at 32768, but a narrowed range could go lower.
                if (port >= MinimumPort)
                {
                    ports.Add(port);
                }
            }

            return ports;
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }
}
