using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Imaging.Tests.Synthesis;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Imaging.Tests.Preprocessing;

[Collection(PhantomCollection.Name)]
public sealed class SeriesFilesTests(PhantomFixture phantoms)
{
    [Fact]
    public void A_series_folder_loads_every_image_and_skips_other_files()
    {
        using var temp = new TempDirectory("spineseg-seriesfiles");
        foreach (var file in phantoms.Asl.Files)
        {
            File.Copy(file, temp.Combine(Path.GetFileName(file)));
        }
        File.WriteAllText(temp.Combine("README.txt"), "not DICOM");
        var loaded = SeriesFiles.Load(temp.Path);
        loaded.Instances.Should().HaveCount(phantoms.Asl.Files.Count);
        loaded.FilesSkipped.Should().Be(1);
        loaded.FilesRead.Should().Be(phantoms.Asl.Files.Count + 1);
        SeriesFiles.Load(phantoms.Asl.Files[0]).Instances.Should().ContainSingle();
    }

    [Fact]
    public void Two_series_in_one_folder_are_refused_with_a_reason()
    {
        var act = () => SeriesFiles.Load(phantoms.Root);
        act.Should().Throw<UnsupportedSeriesException>()
            .Where(e => e.Reason == SeriesRejection.MixedSeries && e.Message.Contains("2 series", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_path_or_a_folder_without_images_is_reported()
    {
        using var temp = new TempDirectory("spineseg-seriesfiles-empty");
        var missing = () => SeriesFiles.Load(temp.Combine("absent"));
        missing.Should().Throw<FileNotFoundException>();
        File.WriteAllText(temp.Combine("notes.txt"), "x");
        var empty = () => SeriesFiles.Load(temp.Path);
        empty.Should().Throw<UnsupportedSeriesException>().Where(e => e.Reason == SeriesRejection.Empty);
    }
}
