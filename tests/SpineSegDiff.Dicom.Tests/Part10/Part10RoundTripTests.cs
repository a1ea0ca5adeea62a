using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;

namespace SpineSegDiff.Dicom.Tests.Part10;

public class Part10RoundTripTests
{
    public static TheoryData<string> WritableSyntaxes => new()
    {
        DicomTransferSyntax.ImplicitVRLittleEndian.Uid,
        DicomTransferSyntax.ExplicitVRLittleEndian.Uid,
        DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid,
    };

    [Theory]
    [MemberData(nameof(WritableSyntaxes))]
    public void Write_then_read_gives_the_same_dataset(string syntaxUid)
    {
        var syntax = DicomTransferSyntax.FromUid(syntaxUid);
        var original = TestDatasets.EveryVR();
        var bytes = ToPart10(original, syntax);

        var read = DicomFile.Read(new MemoryStream(bytes));

        read.TransferSyntax.Should().Be(syntax);
        var expected = syntax.IsExplicitVR ? original : WithImplicitVRs(original);
        read.Dataset.FirstDifference(expected).Should().BeNull();
        read.Dataset.ContentEquals(expected).Should().BeTrue();
        // And a second generation is byte-identical to the first.
        ToPart10(read.Dataset, syntax).Should().Equal(bytes);
    }

    [Fact]
    public void Strings_keep_their_characters_in_each_character_set()
    {
        foreach (var (cs, name) in new[] { ("ISO_IR 192", "山田^太郎=やまだ^たろう"), ("ISO_IR 100", "Müller^Jürgen"), ("ISO_IR 192", "Müller^Zoë") })
        {
            var ds = TestDatasets.MrImage(characterSet: cs, patientName: name);
            var read = DicomFile.Read(new MemoryStream(ToPart10(ds, DicomTransferSyntax.ExplicitVRLittleEndian))).Dataset;
            read.GetString(DicomTags.PatientName).Should().Be(name);
            read.CharacterSet.DefinedTerm.Should().Be(cs);
        }
    }

    [Fact]
    public void Latin1_names_are_one_byte_per_character_on_the_wire()
    {
        var ds = TestDatasets.MrImage(characterSet: "ISO_IR 100", patientName: "Müller^Jürgen");
        ds.GetBytes(DicomTags.PatientName).ToArray().Should().Equal(System.Text.Encoding.Latin1.GetBytes("Müller^Jürgen "));
    }

    [Fact]
    public void Changing_the_character_set_transcodes_existing_text()
    {
        var ds = TestDatasets.MrImage(characterSet: "ISO_IR 100", patientName: "Müller^Jürgen");
        ds.SetString(DicomTags.SpecificCharacterSet, "ISO_IR 192");
        ds.GetString(DicomTags.PatientName).Should().Be("Müller^Jürgen");
        ds.GetBytes(DicomTags.PatientName).Length.Should().Be(System.Text.Encoding.UTF8.GetByteCount("Müller^Jürgen") + 1);
    }

    [Fact]
    public void A_dataset_without_character_set_uses_the_configured_default()
    {
        var ds = TestDatasets.MrImage(characterSet: "ISO_IR 100", patientName: "Müller^Jürgen");
        ds.Remove(DicomTags.SpecificCharacterSet);
        var bytes = ToPart10(ds, DicomTransferSyntax.ExplicitVRLittleEndian);

        var asDefault = DicomFile.Read(new MemoryStream(bytes)).Dataset.GetString(DicomTags.PatientName);
        var asLatin1 = DicomFile.Read(new MemoryStream(bytes), new DicomReadOptions { DefaultCharacterSet = DicomCharacterSet.Latin1 }).Dataset;

        asDefault.Should().NotBe("Müller^Jürgen", "the default repertoire is ASCII");
        asLatin1.GetString(DicomTags.PatientName).Should().Be("Müller^Jürgen");
    }

    [Fact]
    public void Items_inherit_the_character_set_of_their_dataset()
    {
        var ds = TestDatasets.MrImage(characterSet: "ISO_IR 192");
        var item = new DicomDataset();
        ds.SetSequence(DicomTags.ReferencedPatientSequence, item);
        item.SetString(DicomTags.PatientName, "Ægir^Þór");
        var read = DicomFile.Read(new MemoryStream(ToPart10(ds, DicomTransferSyntax.ImplicitVRLittleEndian))).Dataset;
        read.GetSequence(DicomTags.ReferencedPatientSequence)!.Items[0].GetString(DicomTags.PatientName).Should().Be("Ægir^Þór");
    }

    [Fact]
    public void Header_only_reading_stops_before_pixel_data()
    {
        var bytes = ToPart10(TestDatasets.MrImage(), DicomTransferSyntax.ExplicitVRLittleEndian);
        var file = DicomFile.Read(new MemoryStream(bytes), DicomReadOptions.HeaderOnly);
        file.IsPartial.Should().BeTrue();
        file.Dataset.Contains(DicomTags.PixelData).Should().BeFalse();
        file.Dataset.GetString(DicomTags.SOPInstanceUID).Should().Be(TestDatasets.InstanceUid);
    }

    [Fact]
    public void Encapsulated_pixel_data_is_kept_as_is()
    {
        var ds = TestDatasets.MrImage();
        ds.Remove(DicomTags.PixelData);
        ds.Add(new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB, new byte[] { 0, 0, 0, 0 }, [new byte[] { 0xFF, 0xD8, 1, 2 }, new byte[] { 3, 4, 0xFF, 0xD9 }]));
        var syntax = DicomTransferSyntax.FromUid("1.2.840.10008.1.2.4.70");
        var bytes = ToPart10(ds, syntax);
        var read = DicomFile.Read(new MemoryStream(bytes));
        read.TransferSyntax.IsEncapsulated.Should().BeTrue();
        read.Dataset.ContentEquals(ds).Should().BeTrue();
    }

    [Fact]
    public void Big_endian_input_is_read_into_little_endian_values()
    {
        // Explicit VR Big Endian: Rows (US) = 0x0102 is stored as 01 02.
        var dataset = new byte[] { 0x00, 0x28, 0x00, 0x10, (byte)'U', (byte)'S', 0x00, 0x02, 0x01, 0x02 };
        var ds = DicomDatasetReader.Read(new MemoryStream(dataset), DicomTransferSyntax.ExplicitVRBigEndian);
        ds.GetUInt16(DicomTags.Rows).Should().Be(0x0102);
    }

    [Fact]
    public void Values_are_validated_when_we_write_them()
    {
        var ds = new DicomDataset();
        var act = () => ds.SetString(DicomTags.SOPInstanceUID, "1.2.03");
        act.Should().Throw<ArgumentException>().WithMessage("*UID*");
        ((Action)(() => ds.SetString(DicomTags.Modality, "mr"))).Should().Throw<ArgumentException>();
        ((Action)(() => ds.SetString(DicomTags.PatientID, new string('1', 65)))).Should().Throw<ArgumentException>();
        ((Action)(() => ds.SetString(DicomTags.PatientName, "Müller"))).Should().Throw<ArgumentException>("the default repertoire has no ü");
        ((Action)(() => ds.SetString(DicomTags.StudyDate, "20261332"))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Typed_values_round_trip()
    {
        var ds = TestDatasets.EveryVR();
        ds.GetDecimalStrings(DicomTags.ImagePositionPatient).Should().Equal(-12.5, -120.25, 140.0);
        ds.GetIntegerStrings(DicomTags.EchoTrainLength).Should().Equal(17);
        ds.GetDate(DicomTags.StudyDate).Should().Be(new DateOnly(2026, 11, 22));
        ds.GetTime(DicomTags.StudyTime).Should().Be(new TimeOnly(10, 15, 30, 250));
        ds.GetDateTime(DicomTags.AcquisitionDateTime).Should().Be(new DateTime(2026, 11, 22, 10, 15, 30, 500));
        ds.GetTags(DicomTags.FrameIncrementPointer).Should().Equal(DicomTags.FrameTime);
        ds.GetInt32(DicomTags.ReferencePixelX0).Should().Be(-5);
        ds.GetInt16(DicomTags.SmallestImagePixelValue).Should().Be(-3);
        ds.GetString(DicomTags.ImageComments).Should().Be("first line\r\nsecond line with \\ backslash");
        ds.GetStrings(DicomTags.SequenceVariant).Should().Equal("SK", "SP");
        ds.GetBytes(new DicomTag(0x0029, 0x1001)).Length.Should().Be(4, "odd OB values are padded to even length");
    }

    [Fact]
    public void Decimal_strings_fit_sixteen_characters()
    {
        DicomValueRules.FormatDecimal(1.0 / 3.0).Length.Should().BeLessThanOrEqualTo(16);
        DicomValueRules.FormatDecimal(-123456.789012345678).Length.Should().BeLessThanOrEqualTo(16);
        double.Parse(DicomValueRules.FormatDecimal(0.9375), System.Globalization.CultureInfo.InvariantCulture).Should().Be(0.9375);
    }

    internal static byte[] ToPart10(DicomDataset dataset, DicomTransferSyntax syntax)
    {
        using var ms = new MemoryStream();
        DicomFile.Create(dataset, syntax).Write(ms);
        return ms.ToArray();
    }

    /// <summary>What an implicit-VR reader sees: VRs come from the dictionary, unknown private data is UN.</summary>
    private static DicomDataset WithImplicitVRs(DicomDataset source)
    {
        var copy = new DicomDataset();
        foreach (var item in source)
        {
            copy.Add(item switch
            {
                DicomSequence s => new DicomSequence(s.Tag, s.Items.Select(WithImplicitVRs)),
                DicomElement e when e.Tag.IsPrivate && !e.Tag.IsPrivateCreator => new DicomElement(e.Tag, DicomVR.UN, e.Value),
                DicomElement e when e.Tag == DicomTags.PixelData => new DicomElement(e.Tag, DicomVR.OW, e.Value),
                DicomElement e => new DicomElement(e.Tag, DicomDictionary.ImplicitVR(e.Tag) is var vr && vr != DicomVR.UN ? vr : e.VR, e.Value),
                _ => item,
            });
        }
        return copy;
    }
}
