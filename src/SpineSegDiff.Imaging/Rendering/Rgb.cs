namespace SpineSegDiff.Imaging.Rendering;

/// <summary>An 8-bit sRGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb Black => new(0, 0, 0);

    public static Rgb White => new(255, 255, 255);

    public static Rgb Grey(byte level) => new(level, level, level);

    /// <summary><paramref name="over"/> laid on this colour with opacity <paramref name="alpha"/> (0 keeps this, 1 gives <paramref name="over"/>).</summary>
    public Rgb Blend(Rgb over, double alpha) => new(Mix(R, over.R, alpha), Mix(G, over.G, alpha), Mix(B, over.B, alpha));

    private static byte Mix(byte under, byte over, double alpha) => (byte)Math.Round(under + (over - under) * alpha);
}
