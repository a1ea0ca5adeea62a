using System.CommandLine;
using System.Globalization;
using SpineSegDiff.Cli.Hosting;
using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;

namespace SpineSegDiff.Cli.Commands;

/// <summary>
/// <c>spineseg phantom</c>: writes a synthetic sagittal lumbar MR study (a real DICOM MR series rendered from a
/// SPIDER label map) plus its ground-truth label map, for demos and end-to-end tests.
/// </summary>
internal static class PhantomCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output folder (created): MR/IM00001.dcm ... and ground_truth_labels.mha.", Required = true };
        var patient = new Option<string?>("--patient") { Description = "SPIDER patient (\"166\") or case (\"166_t2\"); default: a validation patient." };
        var contrast = new Option<string?>("--contrast") { Description = "t1, t2 or random; default: the contrast of the mask's own series." };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same seed writes identical files.", DefaultValueFactory = _ => 1 };
        var data = new Option<string?>("--data") { Description = $"The data/spider folder (default: found above the program, or ${SpiderCatalog.EnvironmentVariable})." };
        var command = new Command("phantom", "Write a synthetic lumbar spine MR study (DICOM) with its ground-truth labels.") { output, patient, contrast, seed, data };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(output)!, parse.GetValue(patient), parse.GetValue(contrast), parse.GetValue(seed), parse.GetValue(data)));
        return command;
    }

    private static async Task<int> RunAsync(string output, string? patient, string? contrastName, int seed, string? dataDirectory)
    {
        MrContrast? contrast = null;
        if (contrastName is not null)
        {
            if (!TryParseContrast(contrastName, out var parsed))
            {
                return await ConsoleReport.ConfigurationErrorsAsync([$"--contrast must be t1, t2 or random, not '{contrastName}'."]).ConfigureAwait(false);
            }
            contrast = parsed;
        }
        SpiderCatalog catalog;
        SpiderCase spiderCase;
        try
        {
            catalog = SpiderCatalog.Open(dataDirectory);
            spiderCase = patient is null ? SyntheticStudyWriter.DefaultCase(catalog) : SyntheticStudyWriter.ResolveCase(catalog, patient);
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or FileNotFoundException or KeyNotFoundException)
        {
            return await ConsoleReport.ConfigurationErrorsAsync([ex.Message]).ConfigureAwait(false);
        }
        var chosen = contrast ?? SyntheticStudyWriter.DefaultContrast(spiderCase);
        var study = SyntheticStudyWriter.Write(catalog, spiderCase, chosen, seed, Path.GetFullPath(output));
        var split = catalog.IsValidation(spiderCase) ? "validation" : "training";
        var c = CultureInfo.InvariantCulture;
        await Console.Out.WriteLineAsync(string.Create(c,
            $"Synthetic {study.Contrast} study from SPIDER case {study.CaseId} ({split} patient), seed {study.Seed}: \"{study.SeriesDescription}\", patient ID {study.PatientId}")).ConfigureAwait(false);
        await Console.Out.WriteLineAsync(string.Create(c,
            $"  {study.Files.Count} MR instances {study.Rows}x{study.Columns}, pixel spacing {study.RowSpacing:F4}/{study.ColumnSpacing:F4} mm, slice spacing {study.SliceSpacing:F3} mm in {study.SeriesDirectory}")).ConfigureAwait(false);
        await Console.Out.WriteLineAsync($"  Study {study.StudyInstanceUid}").ConfigureAwait(false);
        await Console.Out.WriteLineAsync($"  Series {study.SeriesInstanceUid}").ConfigureAwait(false);
        await Console.Out.WriteLineAsync($"  Ground truth (0 background, 1 canal, 2 vertebra, 3 disc) on the series grid: {study.LabelPath}").ConfigureAwait(false);
        await Console.Out.WriteLineAsync("  Synthetic images, not a patient, not for clinical use.").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static bool TryParseContrast(string value, out MrContrast contrast)
    {
        (var ok, contrast) = value.ToLowerInvariant() switch
        {
            "t1" => (true, MrContrast.T1),
            "t2" => (true, MrContrast.T2),
            "random" => (true, MrContrast.Random),
            _ => (false, default(MrContrast)),
        };
        return ok;
    }
}
