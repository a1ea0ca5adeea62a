namespace SpineSegDiff.Imaging;

/// <summary>The project's label convention, used by every file, tool and test: 0 background, 1 canal, 2 vertebra, 3 disc.</summary>
public static class LabelClasses
{
    public const byte Background = 0;
    public const byte SpinalCanal = 1;
    public const byte Vertebra = 2;
    public const byte Disc = 3;

    /// <summary>Number of foreground classes (the network's output channels).</summary>
    public const int ForegroundCount = 3;

    public static string Name(byte label) => label switch
    {
        Background => "background",
        SpinalCanal => "spinal canal",
        Vertebra => "vertebra",
        Disc => "intervertebral disc",
        _ => throw new ArgumentOutOfRangeException(nameof(label), label, "Labels are 0..3."),
    };
}
