using SpineSegDiff.Segmentation.Diffusion;

namespace SpineSegDiff.Segmentation.Tests.Diffusion;

public sealed class FusionAndEntropyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    public void Fusion_weights_sum_to_one(int steps) =>
        TimeWeightedFusion.Weights(steps).Sum().Should().BeApproximately(1, 1e-12);

    [Fact]
    public void Fusion_weights_follow_equation_three_with_the_last_step_heaviest()
    {
        const int ts = 10;
        var weights = TimeWeightedFusion.Weights(ts);
        var raw = Enumerable.Range(1, ts).Select(t => Math.Exp(-(ts / 2.0) * (ts - t) / ts)).ToArray();
        for (var i = 0; i < ts; i++)
        {
            weights[i].Should().BeApproximately(raw[i] / raw.Sum(), 1e-12);
        }
        // a = Ts/2: consecutive weights differ by exp(a/Ts) = exp(0.5); the last over the first by exp(4.5).
        (weights[9] / weights[8]).Should().BeApproximately(Math.Exp(0.5), 1e-12);
        (weights[9] / weights[0]).Should().BeApproximately(Math.Exp(4.5), 1e-9);
    }

    [Fact]
    public void Entropy_is_ln2_when_undecided_and_zero_when_certain()
    {
        BinaryEntropy.Nats(0.5).Should().BeApproximately(Math.Log(2), 1e-15);
        BinaryEntropy.Nats(0).Should().Be(0);
        BinaryEntropy.Nats(1).Should().Be(0);
        BinaryEntropy.Bits(0.5f).Should().BeApproximately(1f, 1e-6f);
        BinaryEntropy.Nats(0.2).Should().BeApproximately(BinaryEntropy.Nats(0.8), 1e-15);
        BinaryEntropy.Nats(0.1).Should().BeApproximately(-(0.1 * Math.Log(0.1)) - (0.9 * Math.Log(0.9)), 1e-15);
    }
}
