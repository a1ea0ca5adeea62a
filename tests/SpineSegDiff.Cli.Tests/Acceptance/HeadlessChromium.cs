using System.Globalization;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// Debian's Chromium, headless, opening one URL and driven over the DevTools protocol (a WebSocket, no npm packages):
/// evaluate an expression in the page, take a screenshot. What a person's browser would make of the page, images
/// decoded included, rather than what an HTTP client sees.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly ExternalProcess _process;
    private readonly ClientWebSocket _socket;
    private int _nextId;

    private HeadlessChromium(ExternalProcess process, ClientWebSocket socket)
    {
        _process = process;
        _socket = socket;
    }

    public string Output => _process.CombinedOutput;

    /// <summary>Starts Chromium on <paramref name="url"/> with its profile in <paramref name="profileDirectory"/>.</summary>
    public static async Task<HeadlessChromium> StartAsync(string url, string profileDirectory, CancellationToken cancellationToken)
    {
        var chromium = Tools.TryFind("chromium")
            ?? throw new FileNotFoundException("chromium is not installed; run scripts/setup.sh (it installs Debian's chromium).");
        var port = FreePort.Get();
        var process = ExternalProcess.Start(chromium,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--no-first-run", "--window-size=1600,1200", "--hide-scrollbars",
            $"--remote-debugging-port={port.ToString(CultureInfo.InvariantCulture)}", $"--user-data-dir={profileDirectory}",
            url,
        ]);
        try
        {
            var target = await PageTargetAsync(port, process, cancellationToken);
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri(target), cancellationToken);
            return new HeadlessChromium(process, socket);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page; returns its value (JSON-serialisable values only).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true }, cancellationToken);
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException("The page threw: " + exception);
        }
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>Polls <paramref name="expression"/> until it is true.</summary>
    public async Task WaitUntilAsync(string expression, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await EvaluateAsync(expression, cancellationToken);
            if (value.ValueKind == JsonValueKind.True)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Chromium: no {what} within {timeout.TotalSeconds:F0} s.\n{Output}");
            }
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>Loads <paramref name="url"/> in the page (the load event itself is awaited by the caller's own wait).</summary>
    public Task NavigateAsync(string url, CancellationToken cancellationToken) =>
        SendAsync("Page.navigate", new JsonObject { ["url"] = url }, cancellationToken);

    /// <summary>A PNG of the whole page, as displayed.</summary>
    public async Task<byte[]> ScreenshotAsync(CancellationToken cancellationToken)
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true }, cancellationToken);
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        await _process.DisposeAsync();
    }

    private async Task<JsonElement> SendAsync(string method, JsonObject parameters, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        var request = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        await _socket.SendAsync(new ArraySegment<byte>(Encoding.UTF8.GetBytes(request.ToJsonString())), WebSocketMessageType.Text, true, cancellationToken);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await _socket.ReceiveAsync(new ArraySegment<byte>(buffer), cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException($"Chromium closed the DevTools connection.\n{Output}");
                }
                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);
            using var document = JsonDocument.Parse(message.ToArray());
            // Events (no id) and answers to other requests are not ours.
            if (!document.RootElement.TryGetProperty("id", out var answerId) || answerId.GetInt32() != id)
            {
                continue;
            }
            if (document.RootElement.TryGetProperty("error", out var error))
            {
                throw new InvalidOperationException($"DevTools {method} failed: {error}");
            }
            return document.RootElement.GetProperty("result").Clone();
        }
    }

    private static async Task<string> PageTargetAsync(int port, ExternalProcess process, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"chromium exited with {process.ExitCode}.\n{process.CombinedOutput}");
            }
            try
            {
                var list = await http.GetStringAsync($"http://{Tools.Loopback}:{port}/json/list", cancellationToken);
                using var targets = JsonDocument.Parse(list);
                foreach (var target in targets.RootElement.EnumerateArray())
                {
                    if (target.GetProperty("type").GetString() == "page" && target.TryGetProperty("webSocketDebuggerUrl", out var ws))
                    {
                        return ws.GetString()!;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"chromium did not open its DevTools port within 60 s.\n{process.CombinedOutput}");
            }
            await Task.Delay(200, cancellationToken);
        }
    }
}
