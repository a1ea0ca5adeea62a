using System.Diagnostics;
using System.Text;

namespace SpineSegDiff.Integration.Tests.Peers;

/// <summary>Outcome of a short-lived tool run.</summary>
public sealed record ProcessResult(
    string Command,
    int ExitCode,
    string StandardOutput,
    string StandardError,
    TimeSpan Elapsed)
{
    /// <summary>stdout then stderr, for assertion messages.</summary>
    public string Output => StandardError.Length == 0 ? StandardOutput : $"{StandardOutput}\n--- stderr ---\n{StandardError}";

    public override string ToString() => $"{Command} -> exit {ExitCode} in {Elapsed.TotalMilliseconds:F0} ms\n{Output}";
}

/// <summary>
/// A child process started from an argument list (never a shell string, so paths with
/// spaces or quotes cannot change the command) with stdout/stderr drained asynchronously
/// into buffers, so a chatty peer can never block on a full pipe.
/// Long-running peers are stopped by killing their whole process tree on Dispose.
/// </summary>
public sealed class ExternalProcess : IDisposable, IAsyncDisposable
{
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _combined = new();
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock;
    private int _stopped;

    private ExternalProcess(Process process, string command)
    {
        _process = process;
        Command = command;
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        if (!_process.Start())
        {
            throw new InvalidOperationException($"Could not start {command}");
        }

        _clock = Stopwatch.StartNew();
        Id = _process.Id;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The command line, quoted for humans only (it is never given to a shell).</summary>
    public string Command { get; }

    public int Id { get; }

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public string StandardOutput { get { lock (_gate) { return _stdout.ToString(); } } }

    public string StandardError { get { lock (_gate) { return _stderr.ToString(); } } }

    /// <summary>Both streams interleaved in arrival order, for diagnostics.</summary>
    public string CombinedOutput { get { lock (_gate) { return _combined.ToString(); } } }

    /// <summary>Starts a long-running process; call <see cref="Stop"/> or dispose it.</summary>
    public static ExternalProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        var args = arguments.ToList();
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            CreateNoWindow = true,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                psi.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        try
        {
            var started = new ExternalProcess(process, Describe(fileName, args));
            // Tools that prompt (e.g. for a TLS password) must see EOF, not hang the test.
            process.StandardInput.Close();
            return started;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs a short-lived tool to completion. On timeout or cancellation the process tree
    /// is killed; a timeout throws <see cref="TimeoutException"/> carrying the output so far.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        CancellationToken cancellationToken = default,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var process = Start(fileName, arguments, workingDirectory, environment);
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Stop();
            throw new TimeoutException(
                $"{process.Command} did not finish within {timeout.TotalSeconds:F0} s.\n{process.CombinedOutput}");
        }

        return process.ToResult();
    }

    /// <summary>Waits for exit and for both output streams to be fully drained.</summary>
    public async Task WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Stop();
            throw;
        }
    }

    public ProcessResult ToResult()
    {
        if (!_process.HasExited)
        {
            throw new InvalidOperationException($"{Command} is still running.");
        }

        return new ProcessResult(Command, _process.ExitCode, StandardOutput, StandardError, _clock.Elapsed);
    }

    /// <summary>Kills the process and all its descendants by PID. Idempotent.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill: nothing left to stop.
        }

        // Reap the child so no zombie survives the test, and let the readers hit EOF.
        if (!_process.WaitForExit(KillWait))
        {
            throw new InvalidOperationException($"{Command} (pid {Id}) survived SIGKILL for {KillWait.TotalSeconds:F0} s.");
        }
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        finally
        {
            _process.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            target.AppendLine(line);
            _combined.AppendLine(line);
        }
    }

    private static string Describe(string fileName, IEnumerable<string> args) =>
        string.Join(' ', new[] { fileName }.Concat(args).Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"'{a}'" : a));
}
