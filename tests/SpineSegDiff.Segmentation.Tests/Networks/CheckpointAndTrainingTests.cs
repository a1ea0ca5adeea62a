using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Tests.Networks;

[Collection(NativeEngineCollection.Name)]
public sealed class CheckpointAndTrainingTests : IDisposable
{
    private const int Size = TinyBatch.Size;
    private readonly TorchRuntime runtime;
    private readonly string directory = Directory.CreateTempSubdirectory("ssn-checkpoints-").FullName;

    public CheckpointAndTrainingTests(NativeEngineFixture fixture) => runtime = fixture.Runtime;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Presegmentation_outputs_are_bit_identical_after_a_save_load_round_trip()
    {
        var (images, _) = TinyBatch.Make(2);
        var path = Path.Combine(directory, "preseg.pt");
        using var network = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        var before = network.Forward(images, 2, Size, Size);
        network.Save(path);

        using var loaded = PresegmentationNetwork.Load(path, ComputeDevice.Cpu);

        loaded.Config.Should().Be(TinyBatch.PresegConfig);
        loaded.ParameterCount.Should().Be(network.ParameterCount);
        loaded.Forward(images, 2, Size, Size).Should().Equal(before);
    }

    [Fact]
    public void Diffusion_outputs_are_bit_identical_after_a_save_load_round_trip_and_lie_in_minus_one_to_one()
    {
        var (images, labels) = TinyBatch.Make(2);
        var noisy = TinyBatch.Noised(TinyBatch.CleanMasks(labels, 2), 0.5, seed: 3);
        long[] steps = [10, 20];
        var path = Path.Combine(directory, "diffusion.pt");
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        float[] before;
        using (var features = network.EncodeImage(images, 2, Size, Size))
        {
            before = network.Denoise(features, noisy, steps);
        }

        network.Save(path);
        using var loaded = SpineSegDiffNetwork.Load(path, ComputeDevice.Cpu);
        using var loadedFeatures = loaded.EncodeImage(images, 2, Size, Size);

        loaded.Config.Should().Be(TinyBatch.DiffusionConfig);
        loaded.Denoise(loadedFeatures, noisy, steps).Should().Equal(before);
        before.Should().OnlyContain(v => v >= -1f && v <= 1f);
    }

    [Fact]
    public void Batch_one_features_broadcast_to_every_sample_like_repeated_features()
    {
        var (images, labels) = TinyBatch.Make(1);
        var clean = TinyBatch.CleanMasks(labels, 1);
        var noisy = TinyBatch.Noised([.. clean, .. clean, .. clean], 0.3, seed: 5);
        long[] steps = [3, 15, 27];
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        using var single = network.EncodeImage(images, 1, Size, Size);
        using var repeated = network.EncodeImage([.. images, .. images, .. images], 3, Size, Size);

        var shared = network.Denoise(single, noisy, steps);
        var own = network.Denoise(repeated, noisy, steps);

        for (var i = 0; i < shared.Length; i++)
        {
            shared[i].Should().BeApproximately(own[i], 1e-5f);
        }
    }

    [Fact]
    public void Same_seed_gives_the_same_initial_parameters()
    {
        var (images, _) = TinyBatch.Make(1);
        runtime.ManualSeed(11);
        using var first = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        runtime.ManualSeed(11);
        using var second = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);

        second.Forward(images, 1, Size, Size).Should().Equal(first.Forward(images, 1, Size, Size));
    }

    [Fact]
    public void Resumed_presegmentation_training_continues_with_the_same_loss_as_the_uninterrupted_run()
    {
        var (images, labels) = TinyBatch.Make(2);
        var path = Path.Combine(directory, "preseg-resume.pt");
        runtime.ManualSeed(1);
        using var network = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        network.CreateOptimizer(new OptimizerSettings(LearningRate: 1e-3));
        for (var step = 0; step < 3; step++)
        {
            network.LearningRate = 1e-3 * (step + 1) / 3;
            network.TrainStep(images, labels, 2, Size, Size);
        }

        network.Save(path, includeOptimizerState: true);
        var uninterrupted = network.TrainStep(images, labels, 2, Size, Size);

        using var resumed = PresegmentationNetwork.Load(path, ComputeDevice.Cpu, restoreOptimizer: true);
        resumed.LearningRate.Should().Be(1e-3);
        var afterResume = resumed.TrainStep(images, labels, 2, Size, Size);

        afterResume.Should().Be(uninterrupted);
        resumed.TrainStep(images, labels, 2, Size, Size).Should().Be(network.TrainStep(images, labels, 2, Size, Size));
    }

    [Fact]
    public void Resumed_diffusion_training_continues_with_the_same_loss_as_the_uninterrupted_run()
    {
        var (images, labels) = TinyBatch.Make(2);
        var clean = TinyBatch.CleanMasks(labels, 2);
        var noisy = TinyBatch.Noised(clean, 0.6, seed: 9);
        long[] steps = [4, 25];
        var path = Path.Combine(directory, "diffusion-resume.pt");
        runtime.ManualSeed(2);
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        network.CreateOptimizer(new OptimizerSettings(LearningRate: 1e-3));
        network.TrainStep(images, noisy, steps, clean, Size, Size);
        network.TrainStep(images, noisy, steps, clean, Size, Size);
        network.Save(path);
        var uninterrupted = network.TrainStep(images, noisy, steps, clean, Size, Size);

        using var resumed = SpineSegDiffNetwork.Load(path, ComputeDevice.Cpu, restoreOptimizer: true);

        resumed.TrainStep(images, noisy, steps, clean, Size, Size).Should().Be(uninterrupted);
    }

    [Fact]
    public void A_few_presegmentation_steps_reduce_the_loss_on_a_fixed_batch()
    {
        var (images, labels) = TinyBatch.Make(2);
        runtime.ManualSeed(3);
        using var network = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        network.CreateOptimizer(new OptimizerSettings(LearningRate: 1e-2));

        var first = network.TrainStep(images, labels, 2, Size, Size);
        var last = first;
        for (var step = 0; step < 9; step++)
        {
            last = network.TrainStep(images, labels, 2, Size, Size);
        }

        last.Total.Should().BeLessThan(first.Total * 0.8);
        first.Mse.Should().Be(0);
        first.Total.Should().BeApproximately(first.Dice + first.BinaryCrossEntropy, 1e-6);
    }

    [Fact]
    public void A_few_diffusion_steps_reduce_the_loss_on_a_fixed_batch()
    {
        var (images, labels) = TinyBatch.Make(2);
        var clean = TinyBatch.CleanMasks(labels, 2);
        var noisy = TinyBatch.Noised(clean, 0.5, seed: 4);
        long[] steps = [12, 20];
        runtime.ManualSeed(4);
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        network.CreateOptimizer(new OptimizerSettings(LearningRate: 3e-3));

        var first = network.TrainStep(images, noisy, steps, clean, Size, Size);
        var last = first;
        for (var step = 0; step < 9; step++)
        {
            last = network.TrainStep(images, noisy, steps, clean, Size, Size);
        }

        last.Total.Should().BeLessThan(first.Total * 0.8);
        first.Total.Should().BeApproximately(first.Mse + first.Dice + first.BinaryCrossEntropy, 1e-6);
    }

    [Fact]
    public void Default_networks_have_the_sizes_documented_in_docs_models()
    {
        using var preseg = PresegmentationNetwork.Create(device: ComputeDevice.Cpu);
        using var diffusion = SpineSegDiffNetwork.Create(device: ComputeDevice.Cpu);

        preseg.ParameterCount.Should().Be(1_942_323);
        diffusion.ParameterCount.Should().Be(3_332_851);
        (preseg.ForwardFlops(320, 320) / 1e9).Should().BeApproximately(9.42, 0.005);
        (diffusion.ImageEncoderFlops(320, 320) / 1e9).Should().BeApproximately(3.33, 0.005);
        (diffusion.ForwardFlops(320, 320) / 1e9).Should().BeApproximately(9.51, 0.005);
    }

    [Fact]
    public void Size_figures_are_reported()
    {
        using var preseg = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        using var diffusion = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);

        preseg.ParameterCount.Should().BePositive();
        preseg.Device.Should().Be(ComputeDevice.Cpu);
        preseg.ForwardFlops(64, 64).Should().BePositive();
        diffusion.ForwardFlops(64, 64).Should().BeGreaterThan(diffusion.ImageEncoderFlops(64, 64));
        diffusion.ParameterCount.Should().BeGreaterThan(preseg.ParameterCount);
    }
}
