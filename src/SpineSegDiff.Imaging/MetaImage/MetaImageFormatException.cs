namespace SpineSegDiff.Imaging.MetaImage;

/// <summary>A MetaImage file that this reader cannot or must not interpret (malformed, unsupported, truncated).</summary>
public sealed class MetaImageFormatException : Exception
{
    public MetaImageFormatException(string message)
        : base(message)
    {
    }

    public MetaImageFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MetaImageFormatException()
    {
    }
}
