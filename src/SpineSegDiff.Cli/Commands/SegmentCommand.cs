using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Segmentation.Inference;
using SpineSegDiff.Segmentation.Native;
using SpineSegDiff.Worker;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg segment INPUT --out DIR</c>: segments the central sagittal slice of one MR series (a folder of DICOM
/// files or a single file) with the presegmentation and SpineSegDiff refinement, and writes the mask and uncertainty
/// heatmap on the source image's geometry (.mha), preview PNGs and a JSON summary.
/// </summary>
internal static class SegmentCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "A folder of DICOM files of one series, or one DICOM file." };
        var output = new Option<string>("--out") { Description = "Output folder (created).", Required = true };
        var profile = new Option<string>("--profile") { Description = "Inference profile: paper (S=15, K=10) or fast.", DefaultValueFactory = _ => "paper" };
        var noRefine = new Option<bool>("--no-refine") { Description = "Presegmentation only (the paper's nnU-Net baseline): no diffusion, no heatmap." };
        var seed = new Option<int>("--seed") { Description = "Seed of the diffusion sampling; the same seed reproduces the result bit for bit.", DefaultValueFactory = _ => 1 };
        var models = new Option<string?>("--models") { Description = $"Folder with presegmentation.model and spinesegdiff.model (default: models/, or ${SegmentationModels.EnvironmentVariable})." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)." };
        var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
        var dicom = new Option<bool>("--dicom") { Description = "Also write the DICOM results (SEG, fractional SEG, Secondary Captures) into OUT/dicom." };
        var command = new Command("segment", "Segment the central slice of a lumbar MR series: mask, uncertainty heatmap, previews, summary (and, with --dicom, the DICOM results).")
        {
            input, output, profile, noRefine, seed, models, threads, device, dicom,
        };
        command.SetAction((parse, ct) => RunAsync(
            new Request(parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(profile)!, parse.GetValue(noRefine), parse.GetValue(seed),
                parse.GetValue(models), parse.GetValue(threads), parse.GetValue(device), parse.GetValue(dicom)),
            ct));
        return command;
    }

    private sealed record Request(
        string Input, string Output, string ProfileName, bool NoRefine, int Seed, string? Models, int? Threads, ComputeDevice Device, bool Dicom);

    private static async Task<int> RunAsync(Request request, CancellationToken cancellationToken)
    {
        var profile = request.NoRefine ? InferenceProfile.PresegmentationOnly : InferenceProfile.FromName(request.ProfileName);
        if (profile is null)
        {
            return await ConsoleReport.ConfigurationErrorsAsync(
                [$"--profile must be one of {string.Join(", ", InferenceProfile.Named.Select(p => p.Name))}, not '{request.ProfileName}'."]).ConfigureAwait(false);
        }
        if (request.Threads is < 1)
        {
            return await ConsoleReport.ConfigurationErrorsAsync([$"--threads must be at least 1 (got {request.Threads})."]).ConfigureAwait(false);
        }
        string modelDirectory;
        try
        {
            modelDirectory = request.Models ?? SegmentationModels.FindDirectory();
        }
        catch (DirectoryNotFoundException ex)
        {
            return await ConsoleReport.ConfigurationErrorsAsync([ex.Message]).ConfigureAwait(false);
        }

        var c = CultureInfo.InvariantCulture;
        var total = Stopwatch.StartNew();
        SeriesFiles files;
        try
        {
            files = SeriesFiles.Load(request.Input);
        }
        catch (Exception ex) when (ex is FileNotFoundException or UnsupportedSeriesException)
        {
            await Console.Error.WriteLineAsync($"Cannot segment {request.Input}: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.OperationFailed;
        }
        await Console.Out.WriteLineAsync(string.Create(c, $"Series: {files.Instances.Count} images ({files.FilesSkipped} other files skipped)")).ConfigureAwait(false);

        var runtime = new TorchRuntime(new TorchRuntimeOptions { Threads = request.Threads });
        SegmentationModels models;
        try
        {
            models = SegmentationModels.Load(modelDirectory, request.Device, presegmentationOnly: !profile.Refine);
        }
        catch (Exception ex) when (ex is FileNotFoundException or NativeModelException)
        {
            return await ConsoleReport.ConfigurationErrorsAsync([ex.Message]).ConfigureAwait(false);
        }
        using (models)
        {
            await Console.Out.WriteLineAsync(string.Create(c,
                $"Models: {string.Join(", ", models.Versions.Select(v => $"{v.Key} {v.Value}"))}; profile {profile}; {runtime.Threads} threads")).ConfigureAwait(false);
            var steps = new Progress<int>(k => Console.Out.Write(string.Create(c, $"\r  denoising step {k}/{profile.Steps}")));
            SeriesSegmentationResult run;
            try
            {
                run = new SeriesSegmentationPipeline(models).Run(files.Instances, profile, request.Seed, profile.Refine ? steps : null, cancellationToken);
            }
            catch (Exception ex) when (ex is UnsupportedSeriesException or DicomFormatException)
            {
                await Console.Error.WriteLineAsync($"Cannot segment {request.Input}: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.OperationFailed;
            }
            if (profile.Refine)
            {
                await Console.Out.WriteLineAsync().ConfigureAwait(false);
            }
            var slice = run.Slice;
            var timings = run.Timings;
            var written = SegmentationFiles.Write(request.Output, run.Series, run.Result, run.Segmentation, profile, request.Seed, models.Versions, timings).ToList();
            if (request.Dicom)
            {
                written.AddRange(PipelineResultObjects.Write(files.Instances, run, models.Versions, profile, Path.Combine(request.Output, "dicom")).Select(f => f.Path));
            }

            var areas = run.Result.ClassAreasMm2();
            int Regions(byte label) => run.Result.Structures.Count(s => s.Structure == SourceSegmentation.StructureName(label));
            await Console.Out.WriteLineAsync(string.Create(c,
                $"Central sagittal slice {slice.SliceIndex + 1}/{slice.SliceCount}, {slice.SourceRows}x{slice.SourceColumns} at " +
                $"{slice.Source.RowSpacing:F3}x{slice.Source.ColumnSpacing:F3} mm; areas: canal {areas[0]:F0} mm², vertebrae {areas[1]:F0} mm², discs {areas[2]:F0} mm²; " +
                $"connected regions: {Regions(LabelClasses.Vertebra)} vertebra (bodies and posterior elements), {Regions(LabelClasses.Disc)} disc")).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(string.Create(c,
                $"Time: {total.Elapsed.TotalSeconds:F1} s in all; networks {timings.Network.TotalSeconds:F1} s " +
                $"(presegmentation {timings[Stage.Presegmentation].TotalSeconds:F2}, image encoder {timings[Stage.ImageEncoder].TotalSeconds:F2}, " +
                $"denoiser {timings[Stage.Denoiser].TotalSeconds:F2} in {timings.DenoiserSteps} steps)")).ConfigureAwait(false);
            foreach (var file in written)
            {
                await Console.Out.WriteLineAsync("  " + file).ConfigureAwait(false);
            }
            await Console.Out.WriteLineAsync("Research software, trained on synthetic images: not for clinical use.").ConfigureAwait(false);
        }
        return ExitCodes.Success;
    }
}
