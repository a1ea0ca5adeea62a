using System.Diagnostics;
using System.Reflection;
using Xunit.Abstractions;

namespace SpineSegDiff.Dicom.Tests;

public sealed class DictionaryTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(0x0010, 0x0010, "PatientName", DicomVR.PN, "1")]
    [InlineData(0x0008, 0x0018, "SOPInstanceUID", DicomVR.UI, "1")]
    [InlineData(0x0008, 0x1160, "ReferencedFrameNumber", DicomVR.IS, "1-n")]
    [InlineData(0x0020, 0x000D, "StudyInstanceUID", DicomVR.UI, "1")]
    [InlineData(0x0008, 0x0005, "SpecificCharacterSet", DicomVR.CS, "1-n")]
    [InlineData(0x0028, 0x0010, "Rows", DicomVR.US, "1")]
    [InlineData(0x0002, 0x0010, "TransferSyntaxUID", DicomVR.UI, "1")]
    [InlineData(0x0000, 0x0000, "CommandGroupLength", DicomVR.UL, "1")]
    [InlineData(0x0002, 0x0000, "FileMetaInformationGroupLength", DicomVR.UL, "1")]
    [InlineData(0x0008, 0x1115, "ReferencedSeriesSequence", DicomVR.SQ, "1")]
    public void Finds_well_known_tags_by_tag_and_keyword(int group, int element, string keyword, DicomVR vr, string vm)
    {
        var tag = new DicomTag((ushort)group, (ushort)element);

        var entry = DicomDictionary.Find(tag);

        entry.Should().NotBeNull();
        entry!.Tag.Should().Be(tag);
        entry.Mask.Should().Be(0xFFFFFFFF);
        entry.IsRepeating.Should().BeFalse();
        entry.Keyword.Should().Be(keyword);
        entry.ValueRepresentations.Should().Equal(vr);
        entry.DefaultVR.Should().Be(vr);
        entry.ValueMultiplicity.Should().Be(vm);
        entry.IsRetired.Should().BeFalse();
        DicomDictionary.Find(keyword).Should().BeSameAs(entry);
        DicomDictionary.TryGetTag(keyword, out var found).Should().BeTrue();
        found.Should().Be(tag);
        DicomDictionary.ImplicitVR(tag).Should().Be(vr);
    }

    [Fact]
    public void Generated_tag_constants_match_the_dictionary()
    {
        DicomTags.PatientName.Should().Be(new DicomTag(0x0010, 0x0010));
        DicomTags.PixelData.Should().Be(new DicomTag(0x7FE0, 0x0010));
        DicomTags.SOPInstanceUID.Should().Be(new DicomTag(0x0008, 0x0018));
        DicomTags.ReferencedFrameNumber.Should().Be(new DicomTag(0x0008, 0x1160));

        var properties = typeof(DicomTags).GetProperties(BindingFlags.Public | BindingFlags.Static)
            .Where(p => p.PropertyType == typeof(DicomTag))
            .ToList();
        properties.Should().HaveCount(DicomDictionary.Entries.Count(e => !e.IsRepeating));
        foreach (var property in properties)
        {
            var tag = (DicomTag)property.GetValue(null)!;
            DicomDictionary.Find(tag)!.Keyword.Should().Be(property.Name);
        }
    }

    [Fact]
    public void Pixel_data_may_be_OB_or_OW_and_reads_as_OW_in_implicit_VR()
    {
        var entry = DicomDictionary.Find(DicomTags.PixelData)!;

        entry.Keyword.Should().Be("PixelData");
        entry.ValueRepresentations.Should().Equal(DicomVR.OB, DicomVR.OW);
        entry.DefaultVR.Should().Be(DicomVR.OB);
        DicomDictionary.ImplicitVR(DicomTags.PixelData).Should().Be(DicomVR.OW); // PS3.5 A.1
    }

    [Fact]
    public void Maps_dcmtk_pseudo_VRs_to_the_possible_VRs()
    {
        DicomDictionary.Find("SmallestImagePixelValue")!.ValueRepresentations.Should().Equal(DicomVR.US, DicomVR.SS); // xs
        DicomDictionary.Find("LUTData")!.ValueRepresentations.Should().Equal(DicomVR.US, DicomVR.SS, DicomVR.OW); // lt
        DicomDictionary.Find("WaveformData")!.ValueRepresentations.Should().Equal(DicomVR.OB, DicomVR.OW); // ox
        DicomDictionary.Find("OffsetOfTheNextDirectoryRecord")!.ValueRepresentations.Should().Equal(DicomVR.UL); // up
        DicomDictionary.ImplicitVR(DicomTags.SmallestImagePixelValue).Should().Be(DicomVR.US);
        DicomDictionary.ImplicitVR(DicomTags.LUTData).Should().Be(DicomVR.OW);
    }

    [Fact]
    public void Items_and_delimiters_have_no_VR()
    {
        var item = DicomDictionary.Find(DicomTag.Item)!;

        item.Keyword.Should().Be("Item");
        item.ValueRepresentations.Should().BeEmpty();
        item.DefaultVR.Should().Be(DicomVR.UN);
        DicomDictionary.Find(DicomTag.ItemDelimitationItem)!.Keyword.Should().Be("ItemDelimitationItem");
        DicomDictionary.Find(DicomTag.SequenceDelimitationItem)!.Keyword.Should().Be("SequenceDelimitationItem");
        DicomDictionary.ImplicitVR(DicomTag.SequenceDelimitationItem).Should().Be(DicomVR.UN);
    }

    [Theory]
    [InlineData(0x6000)]
    [InlineData(0x6002)]
    [InlineData(0x60FE)]
    public void Overlay_rows_match_the_repeating_group_entry(int group)
    {
        var tag = new DicomTag((ushort)group, 0x0010);

        var entry = DicomDictionary.Find(tag);

        entry.Should().NotBeNull();
        entry!.Keyword.Should().Be("OverlayRows");
        entry.Tag.Should().Be(new DicomTag(0x6000, 0x0010));
        entry.Mask.Should().Be(0xFF01FFFF);
        entry.IsRepeating.Should().BeTrue();
        entry.Matches(tag).Should().BeTrue();
        entry.DefaultVR.Should().Be(DicomVR.US);
        DicomDictionary.ImplicitVR(tag).Should().Be(DicomVR.US);
        DicomDictionary.TryGetTag("OverlayRows", out var first).Should().BeTrue();
        first.Should().Be(new DicomTag(0x6000, 0x0010));
    }

    [Fact]
    public void Overlay_data_is_OB_or_OW_in_every_overlay_group()
    {
        var entry = DicomDictionary.Find(new DicomTag(0x6004, 0x3000))!;

        entry.Keyword.Should().Be("OverlayData");
        entry.ValueRepresentations.Should().Equal(DicomVR.OB, DicomVR.OW);
        DicomDictionary.ImplicitVR(new DicomTag(0x6004, 0x3000)).Should().Be(DicomVR.OW);
    }

    [Fact]
    public void Odd_groups_do_not_match_repeating_group_entries()
    {
        // (6001,0010) is a private creator, not Overlay Rows; (6001,3000) a private data element.
        DicomDictionary.Find(new DicomTag(0x6001, 0x0010))!.Keyword.Should().Be("PrivateCreator");
        DicomDictionary.Find(new DicomTag(0x6001, 0x3000)).Should().BeNull();
        DicomDictionary.Find(new DicomTag(0x6100, 0x0010)).Should().BeNull();
    }

    [Fact]
    public void Element_ranges_match_masked_entries()
    {
        var entry = DicomDictionary.Find(new DicomTag(0x0020, 0x3102))!;

        entry.Keyword.Should().Be("SourceImageIDs");
        entry.IsRetired.Should().BeTrue();
        entry.Tag.Should().Be(new DicomTag(0x0020, 0x3100));
    }

    [Theory]
    [InlineData(0x0008)]
    [InlineData(0x0010)]
    [InlineData(0x7FE0)]
    [InlineData(0x0009)]
    [InlineData(0x0029)]
    public void Group_length_is_UL_in_any_group(int group)
    {
        var tag = new DicomTag((ushort)group, 0x0000);

        var entry = DicomDictionary.Find(tag);

        entry.Should().BeSameAs(DicomDictionary.GroupLength);
        entry!.DefaultVR.Should().Be(DicomVR.UL);
        entry.IsRetired.Should().BeTrue();
        DicomDictionary.ImplicitVR(tag).Should().Be(DicomVR.UL);
    }

    [Theory]
    [InlineData(0x0009, 0x0010)]
    [InlineData(0x0029, 0x0011)]
    [InlineData(0x7FE1, 0x00FF)]
    public void Private_creator_is_LO(int group, int element)
    {
        var tag = new DicomTag((ushort)group, (ushort)element);

        var entry = DicomDictionary.Find(tag);

        entry.Should().NotBeNull();
        entry!.Keyword.Should().Be("PrivateCreator");
        entry.ValueRepresentations.Should().Equal(DicomVR.LO);
        DicomDictionary.ImplicitVR(tag).Should().Be(DicomVR.LO);
    }

    [Theory]
    [InlineData(0x0029, 0x1010)] // private data element
    [InlineData(0x0009, 0x0005)] // odd group, below the private creator block
    [InlineData(0x0010, 0x9999)] // unknown standard tag
    [InlineData(0x0020, 0x3101)] // (0020,3100-31FF) covers even elements only (dicom.dic notation)
    [InlineData(0x00FE, 0x0001)] // unused group
    public void Unknown_and_private_tags_are_not_found_and_read_as_UN(int group, int element)
    {
        var tag = new DicomTag((ushort)group, (ushort)element);

        DicomDictionary.Find(tag).Should().BeNull();
        DicomDictionary.ImplicitVR(tag).Should().Be(DicomVR.UN);
    }

    [Fact]
    public void Keyword_lookup_is_ordinal_and_case_sensitive()
    {
        DicomDictionary.Find("patientname").Should().BeNull();
        DicomDictionary.Find("NoSuchKeyword").Should().BeNull();
        DicomDictionary.Find(string.Empty).Should().BeNull();
        DicomDictionary.TryGetTag("PatientsName", out var tag).Should().BeFalse();
        tag.Should().Be(default(DicomTag));
        DicomDictionary.Find("PrivateCreator").Should().BeNull(); // rule entries are not keyword-indexed
    }

    [Fact]
    public void Retired_tags_are_flagged_and_keep_their_PS3_6_keyword()
    {
        var entry = DicomDictionary.Find(new DicomTag(0x0040, 0xA136))!;

        entry.Keyword.Should().Be("ReferencedFrameNumbers"); // dcmtk's RETIRED_ prefix is removed
        entry.IsRetired.Should().BeTrue();
        entry.ValueRepresentations.Should().Equal(DicomVR.US);
        DicomDictionary.Find("ReferencedFrameNumbers").Should().BeSameAs(entry);
        DicomTags.ReferencedFrameNumbers.Should().Be(entry.Tag);
        DicomDictionary.Find(new DicomTag(0x0000, 0x0001))!.IsRetired.Should().BeTrue(); // CommandLengthToEnd
        DicomDictionary.Find(new DicomTag(0x6000, 0x0012))!.IsRetired.Should().BeTrue(); // OverlayPlanes
        DicomDictionary.Find(DicomTags.PatientName)!.IsRetired.Should().BeFalse();
    }

    [Fact]
    public void Tables_are_consistent()
    {
        var entries = DicomDictionary.Entries;

        entries.Length.Should().BeGreaterThan(4000);
        entries.Select(e => e.Keyword).Should().OnlyHaveUniqueItems();
        entries.Where(e => !e.IsRepeating).Select(e => e.Tag).Should().OnlyHaveUniqueItems();
        entries.Should().OnlyContain(e => e.Matches(e.Tag));
        entries.Should().OnlyContain(e => DicomDictionary.Find(e.Tag) == e);
        entries.Should().OnlyContain(e => DicomDictionary.Find(e.Keyword) == e);
        entries.Should().OnlyContain(e => !e.Tag.IsPrivate);
    }

    [Fact]
    public void Generated_files_are_up_to_date_and_the_generator_is_deterministic()
    {
        var installed = Directory.Exists("/usr/share")
            && Directory.EnumerateDirectories("/usr/share", "libdcmtk*").Any(d => File.Exists(Path.Combine(d, "dicom.dic")));
        if (!installed)
        {
            output.WriteLine("Skipped: /usr/share/libdcmtk*/dicom.dic is not installed (apt-get install dcmtk).");
            return;
        }
        var root = FindRepositoryRoot();
        var script = Path.Combine(root, "tools", "gen-dictionary.py");

        // Two runs: both must find the committed files identical to what they generate.
        for (var run = 0; run < 2; run++)
        {
            var (exitCode, text) = RunPython(root, script, "--check");
            output.WriteLine(text);
            exitCode.Should().Be(0, "the committed dictionary must match `python3 tools/gen-dictionary.py` output:\n{0}", text);
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SpineSegDiff.Pacs.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No SpineSegDiff.Pacs.sln above {AppContext.BaseDirectory}.");
    }

    private static (int ExitCode, string Output) RunPython(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("python3")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill();
            throw new TimeoutException("tools/gen-dictionary.py --check did not finish in a minute.");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }
}
