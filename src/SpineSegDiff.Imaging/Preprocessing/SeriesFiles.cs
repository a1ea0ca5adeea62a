using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;

namespace SpineSegDiff.Imaging.Preprocessing;

/// <summary>The image instances of one series read from a DICOM file or a folder of them (recursively).</summary>
public sealed record SeriesFiles(IReadOnlyList<DicomDataset> Instances, int FilesRead, int FilesSkipped)
{
    /// <summary>
    /// Reads <paramref name="path"/> (a file or a folder). Files that are not DICOM, and DICOM objects without pixel
    /// data (DICOMDIR, reports), are skipped and counted. More than one series is refused: which one to segment is
    /// the caller's decision, not ours to guess.
    /// </summary>
    public static SeriesFiles Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string[] files;
        if (File.Exists(path))
        {
            files = [path];
        }
        else if (Directory.Exists(path))
        {
            files = [.. Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
        }
        else
        {
            throw new FileNotFoundException($"No file or folder at {path}.");
        }

        var instances = new List<DicomDataset>();
        var skipped = 0;
        foreach (var file in files)
        {
            DicomDataset dataset;
            try
            {
                dataset = DicomFile.Open(file).Dataset;
            }
            catch (DicomFormatException)
            {
                skipped++;
                continue;
            }
            if (!dataset.Contains(DicomTags.PixelData) || !dataset.Contains(DicomTags.Rows))
            {
                skipped++;
                continue;
            }
            instances.Add(dataset);
        }
        if (instances.Count == 0)
        {
            throw new UnsupportedSeriesException(SeriesRejection.Empty, $"No DICOM images in {path} ({skipped} other files).");
        }
        var series = instances.Select(i => i.GetString(DicomTags.SeriesInstanceUID) ?? string.Empty).Distinct(StringComparer.Ordinal).Count();
        if (series > 1)
        {
            throw new UnsupportedSeriesException(SeriesRejection.MixedSeries,
                $"{path} holds images of {series} series; pass the folder or files of one series.");
        }
        return new SeriesFiles(instances, files.Length, skipped);
    }
}
