using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

public class DicomServerOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_match_the_design()
    {
        var options = new DicomServerOptions();
        options.Validate().Should().BeEmpty();
        options.AeTitle.Should().Be("SEGNODE");
        options.Port.Should().Be(11112);
        options.MaxAssociations.Should().Be(16);
        options.MaxPendingConnections.Should().Be(256);
        options.MaxPduLength.Should().Be(262144u);
        options.AcceptedTransferSyntaxes.Select(t => t.Uid).Should().Equal(SamplePdus.Explicit, SamplePdus.Implicit, SamplePdus.Deflated);
        options.AcceptedSopClasses.Should().Contain([DicomUids.Verification, DicomUids.MRImageStorage, DicomUids.EnhancedMRImageStorage,
            DicomUids.SegmentationStorage, DicomUids.SecondaryCaptureImageStorage, DicomUids.MultiFrameTrueColorSecondaryCaptureImageStorage]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("    ")]
    [InlineData("SEVENTEEN_CHARS_X")]
    [InlineData("BACK\\SLASH")]
    [InlineData("TAB\tNAME")]
    public void Bad_ae_titles_are_reported(string aeTitle)
    {
        new DicomServerOptions { AeTitle = aeTitle }.Validate().Should().ContainSingle().Which.Should().StartWith("AeTitle");
        new DicomServerOptions { ExtraAeTitles = [aeTitle] }.Validate().Should().ContainSingle().Which.Should().StartWith("ExtraAeTitles");
        new DicomServerOptions { AllowedCallingAeTitles = [aeTitle] }.Validate().Should().ContainSingle().Which.Should().StartWith("AllowedCallingAeTitles");
    }

    [Theory]
    [InlineData("")]
    [InlineData("    ")]
    [InlineData("SEVENTEEN_CHARS_X")]
    [InlineData("BACK\\SLASH")]
    [InlineData("TAB\tNAME")]
    public void Bad_ae_titles_in_the_ae_title_list_are_reported_with_their_entry(string aeTitle)
    {
        var options = new DicomServerOptions { AeTitles = [Entry("SEGNODE"), Entry(aeTitle)] };
        options.Validate().Should().ContainSingle().Which.Should().StartWith("Dicom:AeTitles:1:AeTitle");

        options = new DicomServerOptions { AeTitles = [new CalledAeTitleOptions { AeTitle = "SEGNODE", AllowedCallingAeTitles = ["PACS", aeTitle] }] };
        options.Validate().Should().ContainSingle().Which.Should().StartWith("Dicom:AeTitles:0:AllowedCallingAeTitles");
    }

    [Fact]
    public void A_duplicate_ae_title_is_reported_once_with_its_count()
    {
        var errors = new DicomServerOptions { AeTitles = [Entry("SEGNODE"), Entry("SEGFIX"), Entry(" SEGNODE ")] }.Validate();
        errors.Should().ContainSingle().Which.Should().Be("Dicom:AeTitles lists 'SEGNODE' 2 times; each AE title may appear once.");

        new DicomServerOptions { AeTitles = [Entry("SEGNODE"), Entry("segnode")] }.Validate().Should().BeEmpty("AE titles are case-sensitive, as the negotiator compares them");
        new DicomServerOptions { AeTitle = "SEGNODE", ExtraAeTitles = ["SEGNODE"] }.Validate().Should().ContainSingle().Which.Should().StartWith("Dicom:ExtraAeTitles repeats 'SEGNODE'");
    }

    [Fact]
    public void The_shorthand_lists_cannot_be_mixed_with_the_ae_title_list()
    {
        new DicomServerOptions { AeTitles = [Entry("A")], ExtraAeTitles = ["B"] }.Validate()
            .Should().ContainSingle().Which.Should().StartWith("Dicom:ExtraAeTitles and Dicom:AeTitles are both set");
        new DicomServerOptions { AeTitles = [Entry("A")], AllowedCallingAeTitles = ["PACS"] }.Validate()
            .Should().ContainSingle().Which.Should().StartWith("Dicom:AllowedCallingAeTitles and Dicom:AeTitles are both set");
    }

    [Fact]
    public void An_entrys_sop_class_override_must_be_usable_and_rules_named()
    {
        var options = new DicomServerOptions
        {
            AeTitles =
            [
                new CalledAeTitleOptions { AeTitle = "A", AcceptedSopClasses = [] },
                new CalledAeTitleOptions { AeTitle = "B", AcceptedSopClasses = ["1.2.x"], Rules = ["sag-t2", " "] },
            ],
        };

        options.Validate().Should().BeEquivalentTo(
            "Dicom:AeTitles:0:AcceptedSopClasses is empty: this AE title would refuse everything.",
            "Dicom:AeTitles:1:Rules has an empty name.",
            "Dicom:AeTitles:1:AcceptedSopClasses entry '1.2.x' is not a valid UID.");
    }

    [Fact]
    public void The_single_ae_title_is_the_one_entry_shorthand()
    {
        var options = new DicomServerOptions { AeTitle = " SEGNODE ", ExtraAeTitles = ["SEGFIX"], AllowedCallingAeTitles = ["PACS "], AcceptedSopClasses = [DicomUids.MRImageStorage] };

        var resolved = options.ResolvedAeTitles();

        resolved.Select(t => t.AeTitle).Should().Equal("SEGNODE", "SEGFIX");
        resolved.Should().AllSatisfy(t =>
        {
            t.AllowedCallingAeTitles.Should().Equal("PACS");
            t.Rules.Should().BeEmpty("the shorthand applies every rule");
            t.AcceptedSopClasses.Should().Equal(DicomUids.MRImageStorage);
        });
        options.AllAeTitles().Should().Equal("SEGNODE", "SEGFIX");
    }

    [Fact]
    public void Ae_title_entries_replace_the_shorthand_and_inherit_only_the_node_wide_sop_classes()
    {
        var options = new DicomServerOptions
        {
            AeTitle = "IGNORED",
            AcceptedSopClasses = [DicomUids.MRImageStorage],
            AeTitles =
            [
                new CalledAeTitleOptions { AeTitle = "SEGNODE", Rules = ["sag-t2"] },
                new CalledAeTitleOptions { AeTitle = "SEGFIX", AllowedCallingAeTitles = ["READING1"], AcceptedSopClasses = [DicomUids.SegmentationStorage] },
            ],
        };

        var resolved = options.ResolvedAeTitles();

        resolved.Select(t => t.AeTitle).Should().Equal("SEGNODE", "SEGFIX");
        resolved[0].AllowedCallingAeTitles.Should().BeEmpty();
        resolved[0].Rules.Should().Equal("sag-t2");
        resolved[0].AcceptedSopClasses.Should().Equal(DicomUids.MRImageStorage);
        resolved[1].AllowedCallingAeTitles.Should().Equal("READING1");
        resolved[1].AcceptedSopClasses.Should().Equal(DicomUids.SegmentationStorage);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var options = new DicomServerOptions
        {
            Port = 70000,
            BindAddress = "not-an-ip",
            MaxAssociations = 0,
            MaxPendingConnections = 0,
            MaxPduLength = 100,
            ArtimTimeout = TimeSpan.Zero,
            IdleTimeout = TimeSpan.FromSeconds(-1),
            DimseTimeout = TimeSpan.FromDays(2),
            AcceptedSopClasses = [],
            AcceptedTransferSyntaxes = [DicomTransferSyntax.FromUid(SamplePdus.JpegBaseline)],
        };
        options.Validate().Should().HaveCount(10);
    }

    [Fact]
    public void Server_constructor_refuses_invalid_options()
    {
        var act = () => new DicomServer(new DicomServerOptions { AeTitle = "" }, new NullSink(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        act.Should().Throw<ArgumentException>().WithMessage("*AeTitle*");
    }

    private static CalledAeTitleOptions Entry(string aeTitle) => new() { AeTitle = aeTitle };

    private sealed class NullSink : IStorageSink
    {
        public ValueTask<IStoreTransaction> BeginAsync(StoreRequestContext context, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
