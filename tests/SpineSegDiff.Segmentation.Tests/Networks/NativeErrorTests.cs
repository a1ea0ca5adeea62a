using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Tests.Networks;

[Collection(NativeEngineCollection.Name)]
public sealed class NativeErrorTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ssn-errors-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Runtime_reports_the_libtorch_version_and_the_threads_it_set()
    {
        var runtime = new TorchRuntime(new TorchRuntimeOptions { Threads = 2 });

        runtime.Threads.Should().Be(2);
        runtime.TorchVersion.Should().MatchRegex(@"^\d+\.\d+\.\d+$");
        NativeMethods.AbiVersion().Should().Be(NativeMethods.ExpectedAbiVersion);
    }

    [Fact]
    public void Image_size_not_divisible_by_the_levels_fails_with_the_native_message()
    {
        using var network = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);

        var act = () => network.Forward(new float[30 * 30], 1, 30, 30);

        act.Should().Throw<NativeModelException>()
            .Where(e => e.Status == NativeStatus.Shape && e.NativeMessage.Contains("multiples of 4"));
    }

    [Fact]
    public void Buffer_lengths_that_do_not_match_the_shape_are_refused_before_the_native_call()
    {
        using var network = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);

        var act = () => network.Forward(new float[64 * 64], 2, 64, 64);

        act.Should().Throw<ArgumentException>().WithParameterName("images");
    }

    [Fact]
    public void Invalid_configuration_fails_with_the_native_message()
    {
        var act = () => SpineSegDiffNetwork.Create(new SpineSegDiffConfig { Widths = [8, 16], TimeEmbeddingDim = 7 }, ComputeDevice.Cpu);

        act.Should().Throw<NativeModelException>()
            .Where(e => e.Status == NativeStatus.InvalidArgument && e.NativeMessage.Contains("time_embedding_dim"));
    }

    [Fact]
    public unsafe void Null_handles_are_reported_by_the_native_side_without_a_crash()
    {
        using var none = new ModelHandle();
        var image = new float[64 * 64];
        var logits = new float[3 * 64 * 64];
        int status;
        fixed (float* input = image)
        fixed (float* output = logits)
        {
            status = NativeMethods.PresegForward(none, input, 1, 64, 64, output);
        }

        status.Should().Be((int)NativeStatus.InvalidArgument);
        NativeEngine.LastErrorMessage().Should().Be("model is null");

        var act = () => NativeEngine.Check(NativeMethods.ModelParameterCount(none, out _), "counting");
        act.Should().Throw<NativeModelException>().Where(e => e.NativeMessage == "model is null");
    }

    [Fact]
    public void A_network_of_the_wrong_kind_is_refused_by_the_native_side()
    {
        using var network = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        var field = typeof(SegmentationNetwork).GetField("model", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var handle = (ModelHandle)field.GetValue(network)!;

        var act = () => EncodeWith(handle);

        act.Should().Throw<NativeModelException>().Where(e => e.NativeMessage.Contains("needs a diffusion"));
    }

    [Fact]
    public void Disposed_networks_and_features_throw_ObjectDisposedException()
    {
        var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        var features = network.EncodeImage(new float[64 * 64], 1, 64, 64);
        features.Dispose();

        var useFeatures = () => network.Denoise(features, new float[3 * 64 * 64], [5L]);
        useFeatures.Should().Throw<ObjectDisposedException>();

        network.Dispose();
        var useNetwork = () => network.EncodeImage(new float[64 * 64], 1, 64, 64);
        useNetwork.Should().Throw<ObjectDisposedException>();
        network.Dispose();
    }

    [Fact]
    public void Features_of_another_batch_or_another_network_are_refused()
    {
        using var network = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        using var other = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu);
        using var features = network.EncodeImage(new float[2 * 64 * 64], 2, 64, 64);

        var wrongBatch = () => network.Denoise(features, new float[3 * 3 * 64 * 64], [1L, 2L, 3L]);
        wrongBatch.Should().Throw<NativeModelException>()
            .Where(e => e.Status == NativeStatus.Shape && e.NativeMessage.Contains("batch 1 or 3"));

        var wrongNetwork = () => other.Denoise(features, new float[2 * 3 * 64 * 64], [1L, 2L]);
        wrongNetwork.Should().Throw<NativeModelException>().Where(e => e.NativeMessage.Contains("another model"));

        var negativeStep = () => network.Denoise(features, new float[2 * 3 * 64 * 64], [1L, -2L]);
        negativeStep.Should().Throw<NativeModelException>().Where(e => e.NativeMessage.Contains("timesteps must be >= 0"));
    }

    [Fact]
    public void A_missing_checkpoint_fails_with_an_io_error_naming_the_file()
    {
        var path = Path.Combine(directory, "absent.pt");

        var act = () => PresegmentationNetwork.Load(path, ComputeDevice.Cpu);

        act.Should().Throw<NativeModelException>()
            .Where(e => e.Status == NativeStatus.Io && e.NativeMessage.Contains("absent.pt"));
    }

    [Fact]
    public void A_checkpoint_of_the_other_architecture_is_refused_in_both_directions()
    {
        var presegPath = Path.Combine(directory, "preseg.pt");
        var diffusionPath = Path.Combine(directory, "diffusion.pt");
        using (var preseg = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu))
        {
            preseg.Save(presegPath);
        }

        using (var diffusion = SpineSegDiffNetwork.Create(TinyBatch.DiffusionConfig, ComputeDevice.Cpu))
        {
            diffusion.Save(diffusionPath);
        }

        var intoDiffusion = () => SpineSegDiffNetwork.Load(presegPath, ComputeDevice.Cpu);
        intoDiffusion.Should().Throw<NativeModelException>()
            .Where(e => e.Status == NativeStatus.Checkpoint && e.NativeMessage.Contains("holds a presegmentation network"));

        var intoPreseg = () => PresegmentationNetwork.Load(diffusionPath, ComputeDevice.Cpu);
        intoPreseg.Should().Throw<NativeModelException>()
            .Where(e => e.Status == NativeStatus.Checkpoint && e.NativeMessage.Contains("holds a diffusion"));
    }

    [Fact]
    public void A_file_that_is_not_a_checkpoint_is_refused()
    {
        var path = Path.Combine(directory, "garbage.pt");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);

        var act = () => PresegmentationNetwork.Load(path, ComputeDevice.Cpu);

        act.Should().Throw<NativeModelException>()
            .Where(e => e.Status == NativeStatus.Checkpoint && e.NativeMessage.Contains("not a SpineSegDiff checkpoint"));
    }

    [Fact]
    public void Restoring_an_optimizer_from_a_checkpoint_without_one_fails_clearly()
    {
        var path = Path.Combine(directory, "no-optimizer.pt");
        using (var network = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu))
        {
            network.Save(path, includeOptimizerState: false);
        }

        var act = () => PresegmentationNetwork.Load(path, ComputeDevice.Cpu, restoreOptimizer: true);

        act.Should().Throw<NativeModelException>().Where(e => e.NativeMessage.Contains("holds no optimizer state"));
    }

    [Fact]
    public void Training_without_an_optimizer_or_with_unknown_labels_fails_clearly()
    {
        using var network = PresegmentationNetwork.Create(TinyBatch.PresegConfig, ComputeDevice.Cpu);
        var (images, labels) = TinyBatch.Make(1);

        var withoutOptimizer = () => network.TrainStep(images, labels, 1, 64, 64);
        withoutOptimizer.Should().Throw<InvalidOperationException>();

        network.CreateOptimizer();
        labels[100] = 9;
        var badLabel = () => network.TrainStep(images, labels, 1, 64, 64);
        badLabel.Should().Throw<NativeModelException>().Where(e => e.NativeMessage.Contains("labels must be"));
    }

    private static unsafe void EncodeWith(ModelHandle handle)
    {
        var image = new float[64 * 64];
        fixed (float* input = image)
        {
            NativeEngine.Check(NativeMethods.DiffusionEncode(handle, input, 1, 64, 64, out var features), "encoding");
            features.Dispose();
        }
    }
}
