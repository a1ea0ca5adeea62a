using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Imaging.Tests.Support;
using SpineSegDiff.Integration.Tests.Peers;

namespace SpineSegDiff.Imaging.Tests.Synthesis;

[Collection(PhantomCollection.Name)]
public sealed class PhantomStudyTests(PhantomFixture phantoms)
{
    [Fact]
    public void The_default_phantom_is_a_validation_patient()
    {
        var catalog = SpiderData.Catalog;
        var chosen = SyntheticStudyWriter.DefaultCase(catalog);
        catalog.IsValidation(chosen).Should().BeTrue();
        phantoms.Asl.CaseId.Should().Be(chosen.Id);
    }

    [Theory]
    [InlineData("asl")]
    [InlineData("rai")]
    public void Preprocessing_a_phantom_and_mapping_back_recovers_its_ground_truth(string which)
    {
        var study = which == "asl" ? phantoms.Asl : phantoms.Rai;
        var instances = study.Files.Select(f => DicomFile.Open(f).Dataset).ToList();
        var slice = SeriesPreprocessor.Preprocess(instances);
        var truthVolume = MetaImageReader.Read<byte>(study.LabelPath);

        // The label map is on the series grid: axis 2 is the instance order along the normal, axes 0/1 the pixels.
        var plane = slice.SourceRows * slice.SourceColumns;
        truthVolume.Geometry.Size0.Should().Be(slice.SourceColumns);
        truthVolume.Geometry.Size1.Should().Be(slice.SourceRows);
        var truth = truthVolume.Voxels.AsSpan(slice.SliceIndex * plane, plane).ToArray();
        var origin = truthVolume.Geometry.IndexToPatient(0, 0, slice.SliceIndex);
        (origin - slice.Source.ImagePositionPatient).Length.Should().BeLessThan(1e-4, "slice k of the label map is instance k");

        var soft = slice.ProbabilitiesToSourceLabels(slice.ClassFractionsToGrid(truth));
        var nearest = slice.LabelsToSource(slice.LabelsToGrid(truth));
        for (byte c = 1; c <= 3; c++)
        {
            Dice.Of(soft, truth, c).Should().BeGreaterThanOrEqualTo(0.99, $"class {c}, probability maps mapped back");
            Dice.Of(nearest, truth, c).Should().BeGreaterThanOrEqualTo(0.95, $"class {c}, hard labels through the 1 mm grid");
        }

        // The grid labels sit under the grid image: on T2 the canal is brighter than the vertebrae, on T1 darker.
        var grid = slice.LabelsToGrid(truth);
        var canal = Mean(slice.Image, grid, LabelClasses.SpinalCanal);
        var bone = Mean(slice.Image, grid, LabelClasses.Vertebra);
        if (study.Contrast == MrContrast.T2)
        {
            canal.Should().BeGreaterThan(bone);
        }
        else
        {
            canal.Should().BeLessThan(bone);
        }
    }

    [Fact]
    public async Task Every_instance_passes_dciodvfy()
    {
        foreach (var file in phantoms.Asl.Files.Concat(phantoms.Rai.Files))
        {
            var result = await Tools.DciodvfyAsync(file);
            result.ExitCode.Should().Be(0, result.ToString());
            result.Output.Should().NotContain("Error", result.ToString());
        }
    }

    [Fact]
    public async Task Pydicom_reads_the_series_with_its_geometry_and_headers()
    {
        const string script = """
            import sys, pydicom
            files = sys.argv[1:]
            series = set()
            for f in files:
                d = pydicom.dcmread(f)
                assert d.SOPClassUID == '1.2.840.10008.5.1.4.1.1.4', d.SOPClassUID
                assert d.Modality == 'MR' and d.BodyPartExamined == 'LSPINE'
                assert d.PhotometricInterpretation == 'MONOCHROME2' and d.BitsAllocated == 16
                assert len(d.PixelData) == d.Rows * d.Columns * 2
                assert len(d.ImageOrientationPatient) == 6 and len(d.ImagePositionPatient) == 3
                assert str(d.PatientName).startswith('SYNTHETIC')
                series.add(d.SeriesInstanceUID)
            print(len(files), len(series), d.SeriesDescription, d.Manufacturer, d.MagneticFieldStrength, d.EchoTime, d.RepetitionTime)
            """;
        var result = await ExternalProcess.RunAsync(Tools.SystemPython, ["-c", script, .. phantoms.Asl.Files], Tools.DefaultTimeout);
        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().StartWith($"{phantoms.Asl.Files.Count} 1 ");
    }

    [Fact]
    public void Headers_carry_the_real_series_values_and_a_synthetic_patient()
    {
        var ds = DicomFile.Open(phantoms.Asl.Files[0]).Dataset;
        var metadata = SpiderData.Catalog.Metadata(SpiderData.Catalog.Case(phantoms.Asl.CaseId))!;
        ds.GetString(DicomTags.SeriesDescription).Should().Be(metadata.SeriesDescription);
        ds.GetString(DicomTags.Manufacturer).Should().Be(metadata.Manufacturer);
        ds.GetDecimalStrings(DicomTags.EchoTime)[0].Should().BeApproximately(metadata.EchoTime!.Value, 1e-3);
        ds.GetString(DicomTags.PatientName).Should().StartWith("SYNTHETIC^");
        ds.GetString(DicomTags.PatientID).Should().StartWith("SYN-");
        ds.GetDecimalStrings(DicomTags.SpacingBetweenSlices)[0].Should().BeApproximately(phantoms.Asl.SliceSpacing, 1e-4);
        Path.GetFileName(phantoms.Asl.Files[0]).Should().Be("IM00001.dcm");
    }

    [Fact]
    public void The_same_seed_writes_identical_bytes()
    {
        using var again = new TempDirectory();
        var catalog = SpiderData.Catalog;
        var study = SyntheticStudyWriter.Write(catalog, catalog.Case("104_t1"), MrContrast.T1, 42, again.Path);
        study.Files.Should().HaveCount(phantoms.Rai.Files.Count);
        for (var i = 0; i < study.Files.Count; i++)
        {
            File.ReadAllBytes(study.Files[i]).Should().Equal(File.ReadAllBytes(phantoms.Rai.Files[i]));
        }
        File.ReadAllBytes(study.LabelPath).Should().Equal(File.ReadAllBytes(phantoms.Rai.LabelPath));
    }

    private static double Mean(float[] image, byte[] labels, byte label)
    {
        double sum = 0;
        var n = 0;
        for (var p = 0; p < image.Length; p++)
        {
            if (labels[p] == label)
            {
                sum += image[p];
                n++;
            }
        }
        return sum / Math.Max(1, n);
    }
}
