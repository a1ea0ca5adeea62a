namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// Linear warm-up from zero to the peak rate, then cosine decay to <see cref="FinalFraction"/> of it at the last
/// step: the paper's "warm-up then cosine decay". A pure function of the step, so a resumed run continues on the
/// same curve.
/// </summary>
public sealed record LearningRateSchedule(double PeakRate, int WarmupSteps, int TotalSteps, double FinalFraction = 0.05)
{
    public double RateAt(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (WarmupSteps > 0 && step < WarmupSteps)
        {
            return PeakRate * (step + 1) / WarmupSteps;
        }
        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return PeakRate * (FinalFraction + ((1 - FinalFraction) * cosine));
    }
}
