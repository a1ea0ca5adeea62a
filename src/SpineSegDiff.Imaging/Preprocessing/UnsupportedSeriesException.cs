namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>Why a series cannot be turned into a model input.</summary>
public enum SeriesRejection
{
    Empty,
    MissingGeometry,
    InconsistentGeometry,
    InconsistentSpacing,
    NotSagittal,
    UnsupportedPixelData,

    /// <summary>The input holds more than one series.</summary>
    MixedSeries,
}

/// <summary>
/// A series that preprocessing refuses: the caller (worker, CLI) reports the reason instead of segmenting garbage.
/// The message names the attribute or instance at fault, never patient data.
/// </summary>
public sealed class UnsupportedSeriesException : Exception
{
    public UnsupportedSeriesException(SeriesRejection reason, string message)
        : base(message) => Reason = reason;

    public UnsupportedSeriesException()
    {
    }

    public UnsupportedSeriesException(string message)
        : base(message)
    {
    }

    public UnsupportedSeriesException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SeriesRejection Reason { get; }
}
