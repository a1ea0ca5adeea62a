using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Segmentation.Networks;
using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg bench-model</c>: forward latency of the presegmentation network, the SpineSegDiff image encoder and
/// denoiser at batch 1 and the sampler's batch (median of repeated runs), training step time at the training batch,
/// the inference budget of one image (1 preseg + 1 IE + steps x denoiser), threads and peak RSS. See docs/benchmarks.md.
/// </summary>
internal static class BenchModelCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "Image height and width.", DefaultValueFactory = _ => 320 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per figure after one warm-up; the median is reported.", DefaultValueFactory = _ => 5 };
        var samples = new Option<int>("--samples") { Description = "Sampler batch (DDIM samples per step).", DefaultValueFactory = _ => 15 };
        var steps = new Option<int>("--steps") { Description = "Denoiser calls per image in the inference budget.", DefaultValueFactory = _ => 10 };
        var trainBatch = new Option<int>("--train-batch") { Description = "Batch of the training-step figures.", DefaultValueFactory = _ => 4 };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)." };
        var noMallocTuning = new Option<bool>("--no-malloc-tuning") { Description = "Leave glibc's allocator defaults (to measure the tuning)." };
        var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
        var presegWidths = new Option<string?>("--preseg-widths") { Description = "Comma-separated widths (default: the shipped configuration)." };
        var diffusionWidths = new Option<string?>("--diffusion-widths") { Description = "Comma-separated widths (default: the shipped configuration)." };
        var command = new Command("bench-model", "Benchmark the segmentation networks' forward and training steps on this machine.")
        {
            size, repeats, samples, steps, trainBatch, threads, noMallocTuning, device, presegWidths, diffusionWidths,
        };
        command.SetAction(parse =>
        {
            if (!NetworkWidths.TryParse(parse.GetValue(presegWidths), out var preseg) || !NetworkWidths.TryParse(parse.GetValue(diffusionWidths), out var diffusion))
            {
                Console.Error.WriteLine("Configuration error: widths are comma-separated positive integers, e.g. 16,32,64,128,256.");
                return 2;
            }
            return Run(new Settings(
                parse.GetValue(size), parse.GetValue(repeats), parse.GetValue(samples), parse.GetValue(steps), parse.GetValue(trainBatch),
                parse.GetValue(threads), !parse.GetValue(noMallocTuning), parse.GetValue(device), preseg, diffusion));
        });
        return command;
    }

    private sealed record Settings(
        int Size, int Repeats, int Samples, int Steps, int TrainBatch, int? Threads, bool TuneMalloc, ComputeDevice Device,
        int[]? PresegWidths, int[]? DiffusionWidths);

    private static int Run(Settings s)
    {
        if (s.Size < 8 || s.Repeats < 1 || s.Samples < 1 || s.Steps < 1 || s.TrainBatch < 1)
        {
            Console.Error.WriteLine("--size (>= 8), --repeats, --samples, --steps and --train-batch must be positive.");
            return 2;
        }

        var runtime = new TorchRuntime(new TorchRuntimeOptions { Threads = s.Threads, TuneMalloc = s.TuneMalloc });
        runtime.ManualSeed(0);
        var presegConfig = s.PresegWidths is null ? PresegmentationConfig.Default : PresegmentationConfig.Default with { Widths = s.PresegWidths };
        var diffusionConfig = s.DiffusionWidths is null ? SpineSegDiffConfig.Default : SpineSegDiffConfig.Default with { Widths = s.DiffusionWidths };
        using var preseg = PresegmentationNetwork.Create(presegConfig, s.Device);
        using var diffusion = SpineSegDiffNetwork.Create(diffusionConfig, s.Device);

        Console.WriteLine($"libtorch {runtime.TorchVersion}, device {preseg.Device}, threads {runtime.Threads}, "
            + $"malloc tuning {(runtime.MallocTuned ? "on" : "off")}, {Environment.ProcessorCount} cores, image {s.Size}x{s.Size}, median of {s.Repeats}");
        Console.WriteLine($"presegmentation widths [{string.Join(',', presegConfig.Widths)}]: {preseg.ParameterCount:N0} parameters, "
            + $"{preseg.ForwardFlops(s.Size, s.Size) / 1e9:F2} GFLOP per image");
        Console.WriteLine($"SpineSegDiff widths [{string.Join(',', diffusionConfig.Widths)}], time embedding {diffusionConfig.TimeEmbeddingDim}: "
            + $"{diffusion.ParameterCount:N0} parameters, image encoder {diffusion.ImageEncoderFlops(s.Size, s.Size) / 1e9:F2} GFLOP, "
            + $"denoiser {diffusion.ForwardFlops(s.Size, s.Size) / 1e9:F2} GFLOP per image");

        var plane = s.Size * s.Size;
        var random = new Random(1);
        float[] Noise(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var image1 = Noise(plane);
        var imageBatch = Noise(s.Samples * plane);
        var masksBatch = Noise(s.Samples * 3 * plane);
        var steps = Enumerable.Range(0, s.Samples).Select(i => (long)(i % 30)).ToArray();

        Console.WriteLine();
        Console.WriteLine("| figure | median ms |");
        Console.WriteLine("|---|---|");
        var presegOne = Report("preseg forward B=1", s.Repeats, () => preseg.Forward(image1, 1, s.Size, s.Size));
        Report($"preseg forward B={s.Samples}", s.Repeats, () => preseg.Forward(imageBatch, s.Samples, s.Size, s.Size));
        var encodeOne = Report("image encoder B=1", s.Repeats, () => diffusion.EncodeImage(image1, 1, s.Size, s.Size).Dispose());
        Report($"image encoder B={s.Samples}", s.Repeats, () => diffusion.EncodeImage(imageBatch, s.Samples, s.Size, s.Size).Dispose());
        using var features = diffusion.EncodeImage(image1, 1, s.Size, s.Size);
        Report("denoiser B=1", s.Repeats, () => diffusion.Denoise(features, masksBatch.AsSpan(0, 3 * plane), steps.AsSpan(0, 1)));
        var denoiseBatch = Report($"denoiser B={s.Samples} (batch-1 features)", s.Repeats, () => diffusion.Denoise(features, masksBatch, steps));

        var (trainImages, trainLabels, trainMasks) = TrainingBatch(s.TrainBatch, plane, random);
        var trainSteps = steps.Take(s.TrainBatch).Select(t => t % 30).ToArray();
        preseg.CreateOptimizer();
        diffusion.CreateOptimizer();
        Report($"preseg train step B={s.TrainBatch}", s.Repeats, () => preseg.TrainStep(trainImages, trainLabels, s.TrainBatch, s.Size, s.Size));
        Report($"diffusion train step B={s.TrainBatch}", s.Repeats,
            () => diffusion.TrainStep(trainImages, trainMasks, trainSteps, trainMasks, s.Size, s.Size));

        var budget = presegOne + encodeOne + s.Steps * denoiseBatch;
        Console.WriteLine($"| inference budget: 1 preseg + 1 IE + {s.Steps} x denoiser B={s.Samples} | {budget:F0} |");
        Console.WriteLine();
        Console.WriteLine($"peak RSS (VmHWM): {ProcessMemory.PeakResidentMegabytes():F0} MB");
        return 0;
    }

    private static (float[] Images, byte[] Labels, float[] Masks) TrainingBatch(int batch, int plane, Random random)
    {
        var images = new float[batch * plane];
        var labels = new byte[batch * plane];
        var masks = new float[batch * 3 * plane];
        for (var i = 0; i < images.Length; i++)
        {
            labels[i] = (byte)random.Next(0, 4);
            images[i] = labels[i] * 0.25f;
        }

        LabelDecoding.ToOneHotBatch(labels, batch, masks, inside: 1f, outside: -1f);
        return (images, labels, masks);
    }

    private static double Report(string name, int repeats, Action action)
    {
        action();
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var started = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(times);
        var median = repeats % 2 == 1 ? times[repeats / 2] : (times[(repeats / 2) - 1] + times[repeats / 2]) / 2;
        Console.WriteLine($"| {name} | {median:F1} |");
        return median;
    }
}
