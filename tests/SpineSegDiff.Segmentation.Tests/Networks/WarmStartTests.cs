using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Tests.Networks;

[Collection(NativeEngineCollection.Name)]
public sealed class WarmStartTests
{
    [Fact]
    public void A_warm_started_refiner_predicts_the_presegmentation_whatever_the_noisy_mask()
    {
        using var preseg = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        using var diffusion = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig with { Widths = TinyBatch.PresegConfig.Widths, LeakySlope = TinyBatch.PresegConfig.LeakySlope }, ComputeDevice.Cpu);
        var (images, labels) = TinyBatch.Make(1);
        var expected = preseg.PredictProbabilities(images, 1, TinyBatch.Size, TinyBatch.Size);

        diffusion.InitialiseFrom(preseg);

        using var features = diffusion.EncodeImage(images, 1, TinyBatch.Size, TinyBatch.Size);
        var clean = TinyBatch.CleanMasks(labels, 1);
        foreach (var (mask, t) in new[] { (TinyBatch.Noised(clean, 0.99, 1), 5L), (TinyBatch.Noised(clean, 0.1, 2), 700L) })
        {
            var x0 = diffusion.Denoise(features, mask, [t]);
            for (var i = 0; i < x0.Length; i++)
            {
                ((x0[i] + 1) / 2).Should().BeApproximately(expected[i], 1e-4f);
            }
        }
    }

    [Fact]
    public void A_warm_start_needs_the_same_widths_and_slope()
    {
        using var preseg = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        using var narrower = SpineSegDiffNetwork.Create(
            TinyBatch.DiffusionConfig with { Widths = [8, 16, 24], LeakySlope = TinyBatch.PresegConfig.LeakySlope }, ComputeDevice.Cpu);
        var act = () => narrower.InitialiseFrom(preseg);
        act.Should().Throw<NativeModelException>().WithMessage("*widths*");
        using var otherSlope = SpineSegDiffNetwork.Create(
            TinyBatch.DiffusionConfig with { Widths = TinyBatch.PresegConfig.Widths, LeakySlope = 0.2f }, ComputeDevice.Cpu);
        var slope = () => otherSlope.InitialiseFrom(preseg);
        slope.Should().Throw<NativeModelException>().WithMessage("*slope*");
    }
}
