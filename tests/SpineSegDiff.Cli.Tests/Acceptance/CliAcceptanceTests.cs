using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using SpineSegDiff.Integration.Tests.Acceptance;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Cli.Tests.Acceptance;

/// <summary>
/// The spineseg program as users run it: a separate process, real peers on 127.0.0.1, exit codes and output lines.
/// Exit codes: 0 success, 1 a DICOM operation failed, 2 configuration error, 3 peer unreachable.
/// </summary>
public sealed partial class CliAcceptanceTests(ITestOutputHelper output)
{
    private const int TestTimeout = 180_000;
    private const int SampleCount = 8;
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    public static TheoryData<string, string[], string, string> BadConfigurations => new()
    {
        { "port from the environment is not a number", [], "SPINESEG_Dicom__Port=abc", "'abc'" },
        { "port on the command line is out of range", ["--port", "70000"], "", "70000" },
        { "AE title on the command line has 17 characters", ["--aet", "ABCDEFGHIJKLMNOPQ"], "", "ABCDEFGHIJKLMNOPQ" },
        { "Telemetry:HashUids from the environment is not a boolean", [], "SPINESEG_Telemetry__HashUids=maybe", "'maybe'" },
    };

    [Theory(Timeout = TestTimeout)]
    [MemberData(nameof(BadConfigurations))]
    public async Task Serve_with_a_bad_configuration_exits_2_with_a_configuration_error(string what, string[] arguments, string environment, string named)
    {
        using var cts = new CancellationTokenSource(CommandTimeout);
        using var temp = new TempDirectory("spineseg-cli-badconfig");
        var env = new Dictionary<string, string> { ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback };
        if (environment.Length > 0)
        {
            var (key, value) = (environment[..environment.IndexOf('=')], environment[(environment.IndexOf('=') + 1)..]);
            env[key] = value;
        }

        // A free port unless the case itself sets one (--port would override the environment), so that a wrongly
        // accepted configuration shows as "Ready.", not as a taken port.
        string[] port = arguments.Contains("--port") || env.ContainsKey("SPINESEG_Dicom__Port") ? [] : ["--port", CliProcess.Port(FreePort.Get())];
        await using var serve = CliProcess.Start(["serve", .. arguments, .. port, "--storage", temp.Combine("store")], env);
        // Bounded, and a node that starts anyway fails the test at once instead of running until the timeout.
        while (!serve.HasExited && !serve.StandardOutput.Contains("Ready.", StringComparison.Ordinal))
        {
            await Task.Delay(50, cts.Token);
        }

        serve.HasExited.Should().BeTrue($"{what} must not start the node:\n{serve.CombinedOutput}");
        await serve.WaitForExitAsync(cts.Token);
        var result = serve.ToResult();
        output.WriteLine($"{what}: {result}");
        result.ExitCode.Should().Be(2, result.ToString());
        var errors = Lines(result.StandardError).Where(l => l.StartsWith("Configuration error:", StringComparison.Ordinal)).ToList();
        errors.Should().NotBeEmpty(result.ToString());
        errors.Should().Contain(l => l.Contains(named, StringComparison.Ordinal), "the error names the offending value");
        result.StandardOutput.Should().NotContain("Ready.");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Serve_answers_echo_and_send_and_stops_on_sigterm()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        using var temp = new TempDirectory("spineseg-cli-serve");
        var storage = temp.Combine("store");
        var port = FreePort.Get();
        var samples = Path.Combine(FixtureGenerator.RepositoryRoot(), "samples", "mr-lumbar-sagittal");
        var sampleFiles = Directory.EnumerateFiles(samples, "*.dcm").Order(StringComparer.Ordinal).ToList();
        sampleFiles.Should().HaveCount(SampleCount);

        await using var serve = CliProcess.Start(
            ["serve", "--port", CliProcess.Port(port), "--storage", storage],
            new Dictionary<string, string> { ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback });
        await WaitForOutputAsync(serve, "Ready.", StartupTimeout, cts.Token);
        serve.StandardOutput.Should().Contain($"--port {port} --called-aet SEGNODE");
        serve.CombinedOutput.Should().Contain($"listening on {Tools.Loopback}:{port}");

        // C-ECHO to the node: exit 0.
        var echo = await CliProcess.RunAsync(Client("echo", port, "SEGNODE"), CommandTimeout, cts.Token);
        output.WriteLine(echo.ToString());
        echo.ExitCode.Should().Be(0, echo.ToString());
        echo.StandardOutput.Should().Contain("(Success)");

        // C-STORE of the sample series: exit 0, one OK line per file, the files land in the store intact.
        var send = await CliProcess.RunAsync([.. Client("send", port, "SEGNODE"), samples], CommandTimeout, cts.Token);
        output.WriteLine(send.ToString());
        send.ExitCode.Should().Be(0, send.ToString());
        var ok = Lines(send.StandardOutput).Where(l => l.StartsWith("OK", StringComparison.Ordinal)).ToList();
        ok.Should().HaveCount(SampleCount, send.ToString());
        foreach (var file in sampleFiles)
        {
            ok.Should().ContainSingle(l => l.EndsWith(file, StringComparison.Ordinal) && l.Contains("0x0000", StringComparison.Ordinal), file);
        }

        send.StandardError.Should().NotContain("FAILED");
        send.StandardOutput.Should().Contain($"{SampleCount} of {SampleCount} stored at SEGNODE@127.0.0.1:{port}");

        var stored = DatasetComparison.FilesBelow(Path.Combine(storage, "instances"), "*.dcm");
        stored.Should().HaveCount(SampleCount);
        DatasetComparison.FilesBelow(Path.Combine(storage, ".incoming")).Should().BeEmpty();
        var pairs = DatasetComparison.Match(sampleFiles.ToDictionary(DatasetComparison.SopInstanceUidOf, f => f), stored);
        foreach (var pair in pairs)
        {
            DatasetComparison.MetaTransferSyntaxOf(pair.Stored).Should().Be(DatasetComparison.MetaTransferSyntaxOf(pair.Sent));
        }

        DatasetComparison.AssertEqualByOurReader(pairs);
        await DatasetComparison.AssertEqualByPydicomAsync(pairs, temp.Path, cts.Token);

        // C-ECHO to an AE title the node does not answer to: the association is rejected, exit 1.
        var wrongAe = await CliProcess.RunAsync(Client("echo", port, "NOTSEGNODE"), CommandTimeout, cts.Token);
        output.WriteLine(wrongAe.ToString());
        wrongAe.ExitCode.Should().Be(1, wrongAe.ToString());
        wrongAe.StandardError.Should().Contain("rejected");

        // SIGTERM by PID: the node shuts down cleanly and promptly.
        serve.HasExited.Should().BeFalse(serve.CombinedOutput);
        var kill = await ExternalProcess.RunAsync(Tools.Find("kill"), ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], CommandTimeout, cts.Token);
        kill.ExitCode.Should().Be(0, kill.ToString());
        var clock = Stopwatch.StartNew();
        using (var stopCts = new CancellationTokenSource(StopTimeout))
        {
            var stop = () => serve.WaitForExitAsync(stopCts.Token);
            await stop.Should().NotThrowAsync($"spineseg serve should exit within {StopTimeout.TotalSeconds:F0} s of SIGTERM");
        }

        output.WriteLine($"serve exited {clock.ElapsedMilliseconds} ms after SIGTERM\n{serve.CombinedOutput}");
        serve.ExitCode.Should().Be(0, serve.CombinedOutput);
        serve.CombinedOutput.Should().Contain("DICOM node stopped");
        (await AcceptsAsync(port)).Should().BeFalse("the listener is closed once serve has exited");
    }

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_program_restarts_itself_in_place_with_one_malloc_arena_unless_told_not_to(bool optOut)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var temp = new TempDirectory("spineseg-cli-arenas");
        var environment = new Dictionary<string, string> { ["SPINESEG_Dicom__BindAddress"] = Tools.Loopback };
        if (optOut)
        {
            environment["SPINESEG_KEEP_MALLOC_ARENAS"] = "1";
        }
        await using var serve = CliProcess.Start(["serve", "--storage", temp.Combine("store"), "--port", CliProcess.Port(FreePort.Get())], environment);
        while (!serve.HasExited && !serve.StandardOutput.Contains("Ready.", StringComparison.Ordinal))
        {
            await Task.Delay(100, cts.Token);
        }
        serve.HasExited.Should().BeFalse(serve.CombinedOutput);

        // The process we started (same PID) now runs with the tunable in its environment, or, opted out, without.
        var variables = (await File.ReadAllTextAsync($"/proc/{serve.Id}/environ", cts.Token)).Split('\0');
        if (optOut)
        {
            variables.Should().NotContain(v => v.StartsWith("GLIBC_TUNABLES=", StringComparison.Ordinal));
        }
        else
        {
            variables.Should().Contain(v => v.StartsWith("GLIBC_TUNABLES=", StringComparison.Ordinal) && v.Contains("glibc.malloc.arena_max=1", StringComparison.Ordinal));
        }
        var kill = await ExternalProcess.RunAsync(Tools.Find("kill"), ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), cts.Token);
        kill.ExitCode.Should().Be(0);
        await serve.WaitForExitAsync(cts.Token);
        serve.ExitCode.Should().Be(0, "SIGTERM reaches the restarted image: " + serve.CombinedOutput);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Echo_to_a_closed_port_exits_3_even_through_its_in_place_restart()
    {
        using var cts = new CancellationTokenSource(CommandTimeout);
        var port = FreePort.Get();
        (await AcceptsAsync(port)).Should().BeFalse();

        var result = await CliProcess.RunAsync([.. Client("echo", port, "SEGNODE"), "--timeout", "10"], CommandTimeout, cts.Token);

        output.WriteLine(result.ToString());
        result.ExitCode.Should().Be(3, result.ToString());
        result.StandardError.Should().Contain($"127.0.0.1:{port}");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Send_stores_200_instances_in_dcmtk_storescp_intact()
    {
        const int count = 200;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        using var temp = new TempDirectory("spineseg-cli-send");
        var manifest = await FixtureGenerator.CreateSeriesAsync(temp.Combine("series"), count, rows: 64, cols: 64, seed: 201, cancellationToken: cts.Token);
        manifest.Files.Should().HaveCount(count);
        await using var scp = await DcmtkStoreScp.StartAsync("ACCEPTSCP", cancellationToken: cts.Token);

        // The files one by one (the series folder also holds manifest.json, which is no DICOM file).
        var result = await CliProcess.RunAsync(
            [.. Client("send", scp.Port, scp.AeTitle), .. manifest.Files.Select(f => f.Path)], TimeSpan.FromSeconds(120), cts.Token);

        output.WriteLine(result.ToString());
        result.ExitCode.Should().Be(0, result.ToString());
        var lines = Lines(result.StandardOutput);
        var ok = lines.Where(l => l.StartsWith("OK", StringComparison.Ordinal)).ToList();
        ok.Should().HaveCount(count);
        // One line per file, in the order given: "OK      0x0000  <path>".
        ok.Select(l => OkLine().Match(l)).Should().OnlyContain(m => m.Success);
        ok.Select(l => OkLine().Match(l).Groups["path"].Value).Should().Equal(manifest.Files.Select(f => f.Path));
        lines.Should().Contain(l => l.StartsWith($"{count} of {count} stored at {scp.AeTitle}@127.0.0.1:{scp.Port}", StringComparison.Ordinal));
        result.StandardError.Should().NotContain("FAILED");

        var received = await scp.WaitForFilesAsync(count, TimeSpan.FromSeconds(20), cts.Token);
        received.Should().HaveCount(count);
        (await PeerLog.WaitForCountAsync(() => scp.Output, "Received Store Request", count, TimeSpan.FromSeconds(10), cts.Token))
            .Should().Be(count, "storescp logs one line per C-STORE it received:\n{0}", scp.Output);
        var pairs = DatasetComparison.Match(manifest.Files, received);
        foreach (var pair in pairs)
        {
            DatasetComparison.MetaTransferSyntaxOf(pair.Stored).Should().Be(DatasetComparison.ExplicitVrLittleEndian);
        }

        DatasetComparison.AssertEqualByOurReader(pairs);
        await DatasetComparison.AssertEqualByPydicomAsync(pairs, temp.Path, cts.Token);
    }

    private static string[] Client(string command, int port, string calledAeTitle) =>
        [command, "--host", Tools.Loopback, "--port", CliProcess.Port(port), "--called-aet", calledAeTitle, "--calling-aet", "ACCEPTCLI"];

    private static List<string> Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();

    private static async Task WaitForOutputAsync(ExternalProcess process, string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!process.StandardOutput.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Command} exited with {process.ExitCode} before printing '{text}'.\n{process.CombinedOutput}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{process.Command} did not print '{text}' within {timeout.TotalSeconds:F0} s.\n{process.CombinedOutput}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return await PeerReadiness.AcceptsTcpAsync(port, cts.Token);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^OK {6}0x0000  (?<path>.+)$")]
    private static partial Regex OkLine();
}
