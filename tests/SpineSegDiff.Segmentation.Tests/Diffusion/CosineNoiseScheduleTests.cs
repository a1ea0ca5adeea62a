using SpineSegDiff.Segmentation.Diffusion;

namespace SpineSegDiff.Segmentation.Tests.Diffusion;

public sealed class CosineNoiseScheduleTests
{
    private static double ClosedForm(double t, int steps)
    {
        static double F(double u) => Math.Pow(Math.Cos((u + CosineNoiseSchedule.Offset) / (1 + CosineNoiseSchedule.Offset) * Math.PI / 2), 2);
        return F(t / steps) / F(0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(29)]
    [InlineData(499)]
    [InlineData(900)]
    public void Alpha_bar_matches_the_closed_form_where_beta_is_not_clipped(int t)
    {
        var schedule = new CosineNoiseSchedule(1000);
        // Index t is the state after t + 1 noising steps.
        schedule.AlphaBar(t).Should().BeApproximately(ClosedForm(t + 1, 1000), 1e-12);
    }

    [Fact]
    public void Alpha_bar_falls_monotonically_from_almost_one_to_almost_zero()
    {
        var schedule = new CosineNoiseSchedule(1000);
        schedule.AlphaBar(0).Should().BeGreaterThan(0.9999);
        schedule.AlphaBar(999).Should().BeLessThan(1e-6);
        for (var t = 1; t < 1000; t++)
        {
            schedule.AlphaBar(t).Should().BeLessThan(schedule.AlphaBar(t - 1));
        }
    }

    [Fact]
    public void At_the_presegmentation_start_step_most_of_the_mask_survives()
    {
        // T_pre = 30 of 1000: the paper starts refinement from a lightly noised presegmentation (noise sd ~0.06).
        new CosineNoiseSchedule(1000).AlphaBar(29).Should().BeInRange(0.995, 0.998);
    }

    [Fact]
    public void Add_noise_mixes_signal_and_noise_by_alpha_bar()
    {
        var schedule = new CosineNoiseSchedule(1000);
        float[] x0 = [1f, -1f, 0.5f];
        float[] noise = [0.3f, -2f, 1f];
        var xt = new float[3];
        schedule.AddNoise(x0, noise, 100, xt);
        var ab = schedule.AlphaBar(100);
        for (var i = 0; i < 3; i++)
        {
            xt[i].Should().BeApproximately((float)((Math.Sqrt(ab) * x0[i]) + (Math.Sqrt(1 - ab) * noise[i])), 1e-6f);
        }
    }

    [Fact]
    public void Out_of_range_steps_are_refused()
    {
        var schedule = new CosineNoiseSchedule(10);
        schedule.Invoking(s => s.AlphaBar(10)).Should().Throw<ArgumentOutOfRangeException>();
        schedule.Invoking(s => s.AlphaBar(-1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Gaussian_noise_is_reproducible_by_seed_and_standard_normal()
    {
        var a = new float[100_001];
        var b = new float[100_001];
        GaussianNoise.Fill(new Random(7), a);
        GaussianNoise.Fill(new Random(7), b);
        a.Should().Equal(b);
        var mean = a.Average();
        var variance = a.Select(v => (v - mean) * (v - mean)).Average();
        mean.Should().BeApproximately(0, 0.02f);
        variance.Should().BeApproximately(1, 0.02f);
    }
}
