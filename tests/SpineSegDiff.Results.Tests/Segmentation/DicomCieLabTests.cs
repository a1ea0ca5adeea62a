namespace SpineSegDiff.Results.Tests.Segmentation;

public sealed class DicomCieLabTests
{
    [Theory]
    // Reference CIELab (D65) of the sRGB primaries and white.
    [InlineData(255, 0, 0, 53.2408, 80.0925, 67.2032)]
    [InlineData(0, 255, 0, 87.7347, -86.1827, 83.1793)]
    [InlineData(0, 0, 255, 32.2970, 79.1875, -107.8602)]
    [InlineData(255, 255, 255, 100.0, 0.0, 0.0)]
    public void Srgb_converts_to_the_reference_lab_values(byte r, byte g, byte b, double l, double a, double bStar)
    {
        var lab = DicomCieLab.ToLab(new SrgbColor(r, g, b));
        lab.L.Should().BeApproximately(l, 0.01);
        lab.A.Should().BeApproximately(a, 0.01);
        lab.B.Should().BeApproximately(bStar, 0.01);
    }

    [Fact]
    public void The_scaled_encoding_maps_the_lab_ranges_onto_0_to_65535()
    {
        // White: L* 100 -> 65535, a* = b* = 0 -> 128/255 of the range.
        DicomCieLab.ToScaled(new SrgbColor(255, 255, 255)).Should().Equal(65535, 32896, 32896);
        DicomCieLab.ToScaled(new SrgbColor(0, 0, 0)).Should().Equal(0, 32896, 32896);
        // Red: 53.2408 * 655.35, (80.0925 + 128) * 257, (67.2032 + 128) * 257.
        DicomCieLab.ToScaled(new SrgbColor(255, 0, 0)).Should().Equal(34891, 53480, 50167);
    }

    [Theory]
    [InlineData(0, 0, 255)]
    [InlineData(0, 255, 0)]
    [InlineData(255, 0, 0)]
    [InlineData(12, 200, 99)]
    public void Scaled_values_convert_back_to_the_same_srgb(byte r, byte g, byte b)
    {
        var color = new SrgbColor(r, g, b);
        DicomCieLab.FromScaled(DicomCieLab.ToScaled(color)).Should().Be(color);
    }
}
