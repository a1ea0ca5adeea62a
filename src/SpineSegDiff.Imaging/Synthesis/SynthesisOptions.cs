namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>Ranges of the random acquisition and augmentation parameters of synthetic training samples.</summary>
public sealed record SynthesisOptions
{
    public static SynthesisOptions Default { get; } = new();

    /// <summary>Relative frequency of T1-like, T2-like and random-contrast images when no contrast is requested.</summary>
    public double T1Weight { get; init; } = 0.35;

    public double T2Weight { get; init; } = 0.40;

    public double RandomWeight { get; init; } = 0.25;

    /// <summary>In-plane acquisition pixel size range (mm), as in clinical sagittal lumbar protocols.</summary>
    public double MinResolutionMm { get; init; } = 0.3;

    public double MaxResolutionMm { get; init; } = 1.2;

    /// <summary>Largest acquisition matrix side; fine resolutions on big fields of view are coarsened to it.</summary>
    public int MaxMatrix { get; init; } = 1024;

    /// <summary>Field of view along superior-inferior (mm).</summary>
    public double MinFovMm { get; init; } = 220;

    public double MaxFovMm { get; init; } = 360;

    /// <summary>Anterior-posterior field of view as a fraction of the superior-inferior one.</summary>
    public double MinFovAspect { get; init; } = 0.75;

    /// <summary>How far from the mid-sagittal (canal centroid) slice a sample may be taken (mm, whole slices).</summary>
    public double MaxSliceOffsetMm { get; init; } = 6;

    public double MaxRotationDegrees { get; init; } = 10;

    /// <summary>Isotropic scaling in 1 ± this (patient size).</summary>
    public double MaxScale { get; init; } = 0.1;

    public double MaxElasticMm { get; init; } = 3;

    /// <summary>Random offset of the field-of-view centre from the spine's centroid (mm), superior-inferior and anterior-posterior.</summary>
    public double MaxShiftRowsMm { get; init; } = 30;

    public double MaxShiftColumnsMm { get; init; } = 15;
}
