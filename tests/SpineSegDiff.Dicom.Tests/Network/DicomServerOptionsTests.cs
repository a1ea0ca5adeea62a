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

    private sealed class NullSink : IStorageSink
    {
        public ValueTask<IStoreTransaction> BeginAsync(StoreRequestContext context, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
