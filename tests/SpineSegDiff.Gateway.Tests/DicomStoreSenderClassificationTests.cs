using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Gateway.Export;

namespace SpineSegDiff.Gateway.Tests;

public sealed class DicomStoreSenderClassificationTests
{
    [Theory]
    [InlineData(0xA700, ExportFailureKind.Transient)]
    [InlineData(0xA7FF, ExportFailureKind.Transient)]
    [InlineData(0x0110, ExportFailureKind.Transient)]
    [InlineData(0x0122, ExportFailureKind.Permanent)]
    [InlineData(0xA900, ExportFailureKind.Permanent)]
    [InlineData(0xA9FF, ExportFailureKind.Permanent)]
    [InlineData(0xC000, ExportFailureKind.Permanent)]
    [InlineData(0xCFFF, ExportFailureKind.Permanent)]
    [InlineData(0x0111, ExportFailureKind.Permanent)]
    [InlineData(0x0212, ExportFailureKind.Permanent)]
    [InlineData(0xFE00, ExportFailureKind.Transient)]
    public void Failure_statuses(int status, ExportFailureKind expected)
    {
        var result = new StoreFileResult("/q/0000.dcm", "1.2.3", (ushort)status, "refused") { FailureKind = StoreFailureKind.Refused };
        var failure = DicomStoreSender.Classify(result);
        failure!.Kind.Should().Be(expected);
        failure.Reason.Should().Contain($"0x{status:X4}");
    }

    [Theory]
    [InlineData(0x0000)]
    [InlineData(0xB000)]
    [InlineData(0x0107)]
    public void Success_and_warnings_are_delivered(int status) =>
        DicomStoreSender.Classify(new StoreFileResult("/q/0000.dcm", "1.2.3", (ushort)status, null)).Should().BeNull();

    [Fact]
    public void No_accepted_presentation_context_is_permanent()
    {
        var failure = DicomStoreSender.Classify(new StoreFileResult("/q/0000.dcm", "1.2.3", null, "no context") { FailureKind = StoreFailureKind.NoAcceptedContext });
        failure!.Kind.Should().Be(ExportFailureKind.Permanent);
        failure.Reason.Should().Contain("SOP class");
    }

    [Fact]
    public void Association_rejection_follows_its_result_field()
    {
        var permanent = new DicomAssociationRejectedException(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 3));
        var transient = new DicomAssociationRejectedException(new AAssociateRj(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, 2));
        Classify(permanent).Kind.Should().Be(ExportFailureKind.Permanent);
        Classify(transient).Kind.Should().Be(ExportFailureKind.Transient);
        Classify(new DicomNetworkException("Cannot connect to 127.0.0.1:1: Connection refused")).Kind.Should().Be(ExportFailureKind.Transient);
        Classify(new DicomAssociationAbortedException(new AAbort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu), byPeer: true)).Kind.Should().Be(ExportFailureKind.Transient);

        static ExportFailure Classify(DicomNetworkException ex) =>
            DicomStoreSender.Classify(new StoreFileResult("/q/0000.dcm", null, null, ex.Message) { FailureKind = StoreFailureKind.Network, NetworkError = ex })!;
    }

    [Fact]
    public void An_unreadable_queued_file_is_permanent() =>
        DicomStoreSender.Classify(new StoreFileResult("/q/0000.dcm", null, null, "Unreadable") { FailureKind = StoreFailureKind.FileProblem })!
            .Kind.Should().Be(ExportFailureKind.Permanent);
}
