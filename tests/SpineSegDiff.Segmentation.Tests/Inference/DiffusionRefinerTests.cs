using SpineSegDiff.Segmentation.Inference;
using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Networks;
using SpineSegDiff.Segmentation.Tests.Networks;

namespace SpineSegDiff.Segmentation.Tests.Inference;

[Collection(NativeEngineCollection.Name)]
public sealed class DiffusionRefinerTests
{
    private const int Size = TinyBatch.Size;

    private static readonly InferenceProfile Small = new() { Name = "test", Samples = 3, Steps = 4, StartTimestep = 30, FusedSteps = 3 };

    private static (float[] Image, float[] Presegmentation) Input()
    {
        var (images, labels) = TinyBatch.Make(1);
        var masks = TinyBatch.CleanMasks(labels, 1);
        var probabilities = masks.Select(m => (m + 1) / 2 * 0.9f).ToArray();
        return (images, probabilities);
    }

    private static RefinementResult Run(SpineSegDiffNetwork network, InferenceProfile profile, int seed, StageTimings? timings = null)
    {
        var (image, presegmentation) = Input();
        return new DiffusionRefiner(network).Refine(image, presegmentation, Size, Size, profile, seed, timings ?? new StageTimings());
    }

    [Fact]
    public void The_same_seed_gives_bit_identical_probabilities_and_uncertainty()
    {
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        var stochastic = Small with { Eta = 0.5 };
        var first = Run(network, stochastic, seed: 11);
        var second = Run(network, stochastic, seed: 11);
        first.Probabilities.Should().Equal(second.Probabilities);
        first.Uncertainty.Should().Equal(second.Uncertainty);
    }

    [Fact]
    public void Different_seeds_with_eta_above_zero_give_different_samples()
    {
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        var stochastic = Small with { Eta = 1 };
        var first = Run(network, stochastic, seed: 1);
        var second = Run(network, stochastic, seed: 2);
        first.Probabilities.Should().NotEqual(second.Probabilities);
        first.Uncertainty.Should().NotEqual(second.Uncertainty);
    }

    [Fact]
    public void Outputs_are_probabilities_and_bits_and_every_step_calls_the_denoiser_once()
    {
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        var timings = new StageTimings();
        var result = Run(network, Small, seed: 5, timings);
        result.Probabilities.Should().HaveCount(3 * Size * Size).And.OnlyContain(p => p >= 0 && p <= 1.0001f);
        result.Uncertainty.Should().OnlyContain(u => u >= 0 && u <= 1.0001f);
        timings.DenoiserSteps.Should().Be(Small.Steps);
        timings[Stage.ImageEncoder].Should().BePositive();
        timings[Stage.Denoiser].Should().BePositive();
    }

    [Fact]
    public void A_profile_that_does_not_refine_or_is_invalid_is_refused()
    {
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        var noRefine = () => Run(network, InferenceProfile.PresegmentationOnly, 1);
        noRefine.Should().Throw<ArgumentException>();
        var tooManyFused = () => Run(network, Small with { FusedSteps = 5 }, 1);
        tooManyFused.Should().Throw<ArgumentException>().WithMessage("*Fused steps*");
    }

    [Fact]
    public void The_shipped_profiles_are_valid()
    {
        InferenceProfile.Paper.Validate().Should().BeEmpty();
        InferenceProfile.Fast.Validate().Should().BeEmpty();
        InferenceProfile.Paper.Samples.Should().Be(15);
        InferenceProfile.Paper.Steps.Should().Be(10);
        InferenceProfile.Paper.StartTimestep.Should().Be(30);
        InferenceProfile.FromName("FAST").Should().Be(InferenceProfile.Fast);
        InferenceProfile.FromName("slow").Should().BeNull();
    }
}
