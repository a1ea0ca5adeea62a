using SpineSegDiff.Dicom.Network;

namespace SpineSegDiff.Dicom.Tests.Network;

public class PresentationContextPlannerTests
{
    private static OutgoingFile File(int index, string sopClass, DicomTransferSyntax syntax) =>
        new(index, $"/f{index}", sopClass, $"1.2.3.{index}", syntax, 300, 1000);

    [Fact]
    public void Each_sop_class_gets_single_syntax_contexts_for_its_files_syntaxes_plus_explicit_and_implicit()
    {
        var files = new[]
        {
            File(0, SamplePdus.MrStorage, DicomTransferSyntax.DeflatedExplicitVRLittleEndian),
            File(1, SamplePdus.CtStorage, DicomTransferSyntax.ImplicitVRLittleEndian),
            File(2, SamplePdus.MrStorage, DicomTransferSyntax.FromUid(SamplePdus.JpegBaseline)),
            File(3, SamplePdus.MrStorage, DicomTransferSyntax.ExplicitVRLittleEndian),
        };

        var plan = PresentationContextPlanner.Plan(files).Should().ContainSingle().Subject;

        plan.Contexts.Select(c => (c.Id, c.AbstractSyntax, c.TransferSyntaxes.Single())).Should().Equal(
            (1, SamplePdus.MrStorage, SamplePdus.Deflated),
            (3, SamplePdus.MrStorage, SamplePdus.JpegBaseline),
            (5, SamplePdus.MrStorage, SamplePdus.Explicit),
            (7, SamplePdus.MrStorage, SamplePdus.Implicit),
            (9, SamplePdus.CtStorage, SamplePdus.Implicit),
            (11, SamplePdus.CtStorage, SamplePdus.Explicit));
        plan.Files.Select(f => f.Index).Should().Equal(0, 1, 2, 3);
    }

    [Fact]
    public void More_than_128_contexts_are_spread_over_several_associations_without_splitting_a_sop_class()
    {
        // 70 SOP classes x 2 contexts = 140 contexts: 64 classes (128 contexts) on the first association, 6 on the next.
        var files = Enumerable.Range(0, 70).Select(i => File(i, $"1.2.840.10008.5.1.4.1.1.{1000 + i}", DicomTransferSyntax.ExplicitVRLittleEndian)).ToList();

        var plans = PresentationContextPlanner.Plan(files);

        plans.Should().HaveCount(2);
        plans[0].Contexts.Should().HaveCount(128);
        plans[0].Contexts.Select(c => (int)c.Id).Should().Equal(Enumerable.Range(0, 128).Select(i => i * 2 + 1));
        plans[1].Contexts.Should().HaveCount(12);
        plans.SelectMany(p => p.Files).Select(f => f.Index).Should().BeEquivalentTo(Enumerable.Range(0, 70));
        foreach (var plan in plans)
        {
            plan.Files.Select(f => f.SopClassUid).Should().OnlyContain(uid => plan.Contexts.Any(c => c.AbstractSyntax == uid));
        }
    }

    [Fact]
    public void No_files_no_associations()
    {
        PresentationContextPlanner.Plan([]).Should().BeEmpty();
    }
}

public class StoreStatusTests
{
    [Fact]
    public void Exceptions_map_to_the_documented_statuses()
    {
        StoreStatus.FromException(new IOException("No space left on device")).Status.Should().Be(DimseStatus.OutOfResources);
        StoreStatus.FromException(new DicomFormatException("bad", 0)).Status.Should().Be(DimseStatus.CannotUnderstand);
        StoreStatus.FromException(new InvalidOperationException()).Status.Should().Be(DimseStatus.ProcessingFailure);
        StoreStatus.FromException(new IOException("secret patient name in a path")).ErrorComment.Should().NotContain("patient");
    }

    [Theory]
    [InlineData((ushort)0x0000, true)]
    [InlineData((ushort)0xB000, true)]
    [InlineData((ushort)0x0107, true)]
    [InlineData((ushort)0xA700, false)]
    [InlineData((ushort)0xC000, false)]
    [InlineData((ushort)0x0110, false)]
    public void Success_and_warnings_count_as_stored(ushort status, bool stored)
    {
        StoreStatus.IsStored(status).Should().Be(stored);
    }
}
