using SpineSegDiff.Segmentation.Diffusion;

namespace SpineSegDiff.Segmentation.Tests.Diffusion;

public sealed class DdimSamplerTests
{
    private static readonly CosineNoiseSchedule Schedule = new(1000);

    [Fact]
    public void The_paper_profile_visits_ten_evenly_spaced_timesteps_from_thirty_to_zero()
    {
        DdimSampler.Timesteps(30, 10).Should().Equal(30, 27, 23, 20, 17, 13, 10, 7, 3, 0);
        DdimSampler.Timesteps(30, 1).Should().Equal(30);
        DdimSampler.Timesteps(100, 3).Should().Equal(100, 50, 0);
    }

    [Fact]
    public void A_deterministic_step_on_a_known_x0_matches_the_closed_form()
    {
        // x_t built from x0 and ε exactly; with a perfect x0 prediction DDIM (η = 0) must land on
        // sqrt(ᾱ_prev)·x0 + sqrt(1 − ᾱ_prev)·ε: the same ε, less of it.
        const int t = 27;
        const int previous = 23;
        float[] x0 = [1f, -1f, 0.25f, -0.6f];
        float[] epsilon = [0.3f, -1.2f, 2.0f, 0.0f];
        var xt = new float[4];
        Schedule.AddNoise(x0, epsilon, t, xt);

        var next = new float[4];
        new DdimSampler(Schedule, eta: 0).Step(xt, x0, t, previous, [], next);

        var a = Schedule.AlphaBar(previous);
        for (var i = 0; i < 4; i++)
        {
            var expected = (Math.Sqrt(a) * x0[i]) + (Math.Sqrt(1 - a) * epsilon[i]);
            next[i].Should().BeApproximately((float)expected, 1e-5f);
        }
    }

    [Fact]
    public void A_deterministic_step_with_an_imperfect_prediction_follows_the_ddim_update()
    {
        const int t = 30;
        const int previous = 27;
        float[] xt = [0.9f, -0.4f];
        float[] predicted = [0.8f, -0.9f];
        var next = new float[2];
        new DdimSampler(Schedule, eta: 0).Step(xt, predicted, t, previous, [], next);

        double at = Schedule.AlphaBar(t), ap = Schedule.AlphaBar(previous);
        for (var i = 0; i < 2; i++)
        {
            var epsilon = (xt[i] - (Math.Sqrt(at) * predicted[i])) / Math.Sqrt(1 - at);
            var expected = (Math.Sqrt(ap) * predicted[i]) + (Math.Sqrt(1 - ap) * epsilon);
            next[i].Should().BeApproximately((float)expected, 1e-5f);
        }
    }

    [Fact]
    public void The_last_step_returns_the_prediction_itself()
    {
        float[] xt = [0.1f, 0.7f, -0.3f];
        float[] predicted = [0.9f, -0.2f, -1f];
        var next = new float[3];
        new DdimSampler(Schedule, eta: 1).Step(xt, predicted, 3, DdimSampler.Clean, new float[3], next);
        next.Should().Equal(predicted);
    }

    [Fact]
    public void Sigma_is_zero_without_eta_and_matches_the_ddpm_posterior_at_eta_one()
    {
        new DdimSampler(Schedule, 0).Sigma(30, 27).Should().Be(0);
        double at = Schedule.AlphaBar(30), ap = Schedule.AlphaBar(27);
        var ddpm = Math.Sqrt((1 - ap) / (1 - at) * (1 - (at / ap)));
        new DdimSampler(Schedule, 1).Sigma(30, 27).Should().BeApproximately(ddpm, 1e-12);
        new DdimSampler(Schedule, 0.5).Sigma(30, 27).Should().BeApproximately(ddpm / 2, 1e-12);
    }

    [Fact]
    public void A_stochastic_step_adds_sigma_times_the_supplied_noise()
    {
        float[] xt = [0.5f];
        float[] predicted = [1f];
        var deterministic = new float[1];
        var stochastic = new float[1];
        var sampler = new DdimSampler(Schedule, 1);
        sampler.Step(xt, predicted, 30, 27, [0f], deterministic);
        sampler.Step(xt, predicted, 30, 27, [2f], stochastic);
        (stochastic[0] - deterministic[0]).Should().BeApproximately((float)(2 * sampler.Sigma(30, 27)), 1e-6f);
    }

    [Fact]
    public void A_stochastic_step_without_noise_is_refused()
    {
        var act = () => new DdimSampler(Schedule, 1).Step(new float[2], new float[2], 30, 27, [], new float[2]);
        act.Should().Throw<ArgumentException>();
    }
}
