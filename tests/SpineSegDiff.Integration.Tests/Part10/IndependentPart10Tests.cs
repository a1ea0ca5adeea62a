using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Dicom.Tests.Part10;
using SpineSegDiff.Integration.Tests.Peers;
using Xunit.Abstractions;

namespace SpineSegDiff.Integration.Tests.Part10;

/// <summary>
/// Our Part 10 codec against files written by pydicom (and dcmtk where pydicom cannot), checked by independent
/// readers: pydicom compares datasets, dcmdump parses, dciodvfy validates the MR Image IOD.
/// </summary>
public sealed class IndependentPart10Tests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new("spineseg-part10");

    [Fact]
    public async Task Files_written_by_pydicom_round_trip_through_our_reader_and_writer()
    {
        var corpus = await FixtureGenerator.CreateCorpusAsync(_temp.Combine("corpus"));
        corpus.Files.Should().HaveCountGreaterThanOrEqualTo(8);
        foreach (var fixture in corpus.Files)
        {
            var first = DicomFile.Open(fixture.Path);
            first.TransferSyntax.Uid.Should().Be(fixture.TransferSyntaxUid, fixture.FileName);
            first.Dataset.GetString(DicomTags.SOPInstanceUID).Should().Be(fixture.SopInstanceUid, fixture.FileName);
            first.Dataset.GetString(DicomTags.PatientName).Should().Be(fixture.PatientName, fixture.FileName);

            // Big Endian is retired and read-only for us: it comes back out as Explicit VR Little Endian.
            var syntax = first.TransferSyntax.IsLittleEndian ? first.TransferSyntax : DicomTransferSyntax.ExplicitVRLittleEndian;
            var ours = _temp.Combine("ours-" + fixture.FileName);
            new DicomFile(DicomFile.CreateMeta(fixture.SopClassUid, fixture.SopInstanceUid, syntax), first.Dataset).Save(ours);

            var second = DicomFile.Open(ours);
            second.Dataset.FirstDifference(first.Dataset).Should().BeNull(fixture.FileName);

            // pydicom, reading both, must see the same data elements.
            var compare = await Tools.RunAsync(Tools.SystemPython, [Path.Combine(FixtureGenerator.RepositoryRoot(), "tools", "compare-datasets.py"), fixture.Path, ours]);
            compare.ExitCode.Should().Be(0, $"{fixture.FileName}: pydicom sees a difference:\n{compare.Output}");

            var dump = await Tools.DcmdumpAsync(ours);
            dump.ExitCode.Should().Be(0, $"dcmdump failed on our {fixture.FileName}:\n{dump.Output}");
            dump.Output.Should().NotContain("E: ", fixture.FileName);
            output.WriteLine($"{fixture.FileName}: {first.Dataset.Count} elements, {fixture.TransferSyntax} -> {syntax.Name}, pydicom and dcmdump agree");
        }
    }

    [Fact]
    public async Task Non_ascii_patient_names_decode_in_each_character_set()
    {
        var corpus = await FixtureGenerator.CreateCorpusAsync(_temp.Combine("corpus"));
        var named = corpus.WithFeature("non-ascii-patient-name").ToList();
        named.Select(f => f.SpecificCharacterSet).Should().Contain(["ISO_IR 192", "ISO_IR 100"]);
        foreach (var fixture in named)
        {
            var dataset = DicomFile.Open(fixture.Path).Dataset;
            dataset.GetString(DicomTags.PatientName).Should().Be(fixture.PatientName);
            dataset.CharacterSet.DefinedTerm.Should().Be(fixture.SpecificCharacterSet);
        }
    }

    [Fact]
    public async Task An_mr_image_we_write_passes_dcmdump_and_dciodvfy()
    {
        foreach (var syntax in new[] { DicomTransferSyntax.ExplicitVRLittleEndian, DicomTransferSyntax.ImplicitVRLittleEndian })
        {
            var path = _temp.Combine($"mr-{syntax.Uid}.dcm");
            DicomFile.Create(TestDatasets.MrImage(rows: 33, columns: 17), syntax).Save(path);

            var dump = await Tools.DcmdumpAsync(path);
            dump.ExitCode.Should().Be(0, dump.Output);
            dump.Output.Should().Contain("Müller^Zoë").And.Contain("MRImageStorage");

            var verify = await Tools.DciodvfyAsync(path);
            output.WriteLine($"dciodvfy ({syntax.Name}): exit {verify.ExitCode}\n{verify.Output}");
            verify.ExitCode.Should().Be(0, $"dciodvfy reports errors:\n{verify.Output}");
            verify.Output.Should().NotContain("Error");
        }
    }

    public void Dispose() => _temp.Dispose();
}
