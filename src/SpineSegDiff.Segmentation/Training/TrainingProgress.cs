using System.Diagnostics;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// The terminal's view of a training run: a progress bar with step, smoothed loss, rate and time left, redrawn in
/// place on a terminal and printed as plain lines (every <see cref="LineInterval"/>) when the output is a file or
/// pipe, so CI logs stay readable.
/// </summary>
public sealed class TrainingProgress
{
    private const int BarWidth = 24;
    private const double Smoothing = 0.05;
    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly int _totalSteps;
    private readonly int _firstStep;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double? _smoothedLoss;

    public TrainingProgress(TextWriter output, bool interactive, int firstStep, int totalSteps)
    {
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _interactive = interactive;
        _firstStep = firstStep;
        _totalSteps = totalSteps;
    }

    public int LineInterval { get; init; } = 50;

    public double? SmoothedLoss => _smoothedLoss;

    public void Step(int completedSteps, double loss)
    {
        _smoothedLoss = _smoothedLoss is { } previous ? previous + (Smoothing * (loss - previous)) : loss;
        var done = completedSteps - _firstStep;
        var perStep = done > 0 ? _clock.Elapsed.TotalSeconds / done : 0;
        var left = TimeSpan.FromSeconds(perStep * (_totalSteps - completedSteps));
        var fraction = _totalSteps == 0 ? 1 : (double)completedSteps / _totalSteps;
        var filled = (int)Math.Round(fraction * BarWidth);
        var line = $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] step {completedSteps}/{_totalSteps}  " +
                   $"loss {_smoothedLoss:F4}  {perStep:F2} s/step  ETA {Format(left)}";
        if (_interactive)
        {
            _output.Write("\r" + line.PadRight(100));
            if (completedSteps == _totalSteps)
            {
                _output.WriteLine();
            }
        }
        else if (completedSteps % LineInterval == 0 || completedSteps == _totalSteps)
        {
            _output.WriteLine(line);
        }
    }

    /// <summary>A message on its own line, not overwritten by the next redraw of the bar.</summary>
    public void Message(string text)
    {
        if (_interactive)
        {
            _output.Write("\r" + new string(' ', 100) + "\r");
        }
        _output.WriteLine(text);
    }

    private static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:D2}m" : $"{span.Minutes}m{span.Seconds:D2}s";
}
