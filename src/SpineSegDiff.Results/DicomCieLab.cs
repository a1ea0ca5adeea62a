namespace SpineSegDiff.Results;

/// <summary>An 8-bit sRGB colour.</summary>
public readonly record struct SrgbColor(byte R, byte G, byte B);

/// <summary>
/// Conversion between sRGB and the scaled CIELab triplets DICOM stores in Recommended Display CIELab Value
/// (PS3.3 C.10.7.1.1): L* 0..100 -> 0..65535, a* and b* -128..127 -> 0..65535, as ICC profiles encode PCS Lab.
/// The white point is D65, the sRGB white, which is what dcmqi, dcmjs and pixelmed use: a viewer converting
/// back with those libraries then shows exactly the sRGB colour we meant.
/// </summary>
public static class DicomCieLab
{
    private const double WhiteX = 0.95047;
    private const double WhiteY = 1.0;
    private const double WhiteZ = 1.08883;
    private const double Epsilon = 216.0 / 24389.0;
    private const double Kappa = 24389.0 / 27.0;

    public static (double L, double A, double B) ToLab(SrgbColor color)
    {
        var r = Linearise(color.R / 255.0);
        var g = Linearise(color.G / 255.0);
        var b = Linearise(color.B / 255.0);
        var x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
        var y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
        var z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
        var fx = F(x / WhiteX);
        var fy = F(y / WhiteY);
        var fz = F(z / WhiteZ);
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz));
    }

    public static SrgbColor FromLab(double l, double a, double b)
    {
        var fy = (l + 16) / 116;
        var fx = fy + a / 500;
        var fz = fy - b / 200;
        var x = WhiteX * FInverse(fx);
        var y = WhiteY * (l > Kappa * Epsilon ? fy * fy * fy : l / Kappa);
        var z = WhiteZ * FInverse(fz);
        var r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
        var g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z;
        var bl = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
        return new SrgbColor(ToByte(r), ToByte(g), ToByte(bl));
    }

    /// <summary>The value of Recommended Display CIELab Value (three US) for an sRGB colour.</summary>
    public static ushort[] ToScaled(SrgbColor color)
    {
        var (l, a, b) = ToLab(color);
        return [Scale(l / 100.0), Scale((a + 128) / 255.0), Scale((b + 128) / 255.0)];
    }

    public static SrgbColor FromScaled(IReadOnlyList<ushort> scaled)
    {
        ArgumentNullException.ThrowIfNull(scaled);
        if (scaled.Count != 3)
        {
            throw new ArgumentException($"A CIELab value has 3 components, not {scaled.Count}.", nameof(scaled));
        }
        return FromLab(scaled[0] * 100.0 / 65535, scaled[1] * 255.0 / 65535 - 128, scaled[2] * 255.0 / 65535 - 128);
    }

    private static ushort Scale(double unit) => (ushort)Math.Clamp(Math.Round(unit * 65535), 0, 65535);

    private static double Linearise(double c) => c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);

    private static double Delinearise(double c) => c <= 0.0031308 ? 12.92 * c : 1.055 * Math.Pow(c, 1 / 2.4) - 0.055;

    private static double F(double t) => t > Epsilon ? Math.Cbrt(t) : (Kappa * t + 16) / 116;

    private static double FInverse(double f) => f * f * f > Epsilon ? f * f * f : (116 * f - 16) / Kappa;

    private static byte ToByte(double linear) => (byte)Math.Clamp(Math.Round(Delinearise(Math.Clamp(linear, 0, 1)) * 255), 0, 255);
}
