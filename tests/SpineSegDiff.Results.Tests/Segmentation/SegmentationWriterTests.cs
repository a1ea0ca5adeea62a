using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Results.Segmentation;
using SpineSegDiff.Results.Tests.Support;

namespace SpineSegDiff.Results.Tests.Segmentation;

[Collection(SeriesCollection.Name)]
public sealed class SegmentationWriterTests(SeriesFixture series)
{
    private static readonly SegmentationAlgorithm Algorithm = new("SpineSegDiff", "preseg 1.2.0; diffusion 0.9.1");

    [Fact]
    public void The_seg_is_a_new_series_in_the_source_study_with_the_source_patient_and_frame_of_reference()
    {
        var instances = series.Odd.Instances();
        var ds = new SegmentationWriter().Write(instances, series.Odd.Labels, SourceSliceSelection.Central, Algorithm).Dataset;
        var source = instances[0];

        ds.GetString(DicomTags.SOPClassUID).Should().Be("1.2.840.10008.5.1.4.1.1.66.4");
        ds.GetString(DicomTags.Modality).Should().Be("SEG");
        foreach (var tag in new[] { DicomTags.StudyInstanceUID, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex, DicomTags.AccessionNumber, DicomTags.StudyID, DicomTags.FrameOfReferenceUID, DicomTags.SpecificCharacterSet })
        {
            ds.GetString(tag).Should().Be(source.GetString(tag), tag.ToString());
        }
        ds.GetString(DicomTags.PatientName).Should().Be("TEST^Müller", "the source's ISO_IR 100 name must survive the copy");
        var seriesUid = ds.GetString(DicomTags.SeriesInstanceUID)!;
        var instanceUid = ds.GetString(DicomTags.SOPInstanceUID)!;
        DicomUids.IsValid(seriesUid).Should().BeTrue();
        DicomUids.IsValid(instanceUid).Should().BeTrue();
        seriesUid.Should().NotBe(source.GetString(DicomTags.SeriesInstanceUID));
        instances.Select(i => i.GetString(DicomTags.SOPInstanceUID)).Should().NotContain(instanceUid);
        ds.GetString(DicomTags.ContentLabel).Should().Be("SPINESEG");
        ds.GetString(DicomTags.ContentCreatorName).Should().NotBeNullOrEmpty();
        ds.GetString(DicomTags.SoftwareVersions).Should().NotBeNullOrEmpty();
        ds.GetString(DicomTags.Manufacturer).Should().Be("SpineSegDiff");
        ds.GetStrings(DicomTags.ImageType).Should().Equal("DERIVED", "PRIMARY");
        ds.GetUInt16(DicomTags.BitsAllocated).Should().Be(1);
        ds.GetUInt16(DicomTags.BitsStored).Should().Be(1);
        ds.GetUInt16(DicomTags.HighBit).Should().Be(0);
        ds.GetString(DicomTags.SegmentationType).Should().Be("BINARY");
    }

    [Fact]
    public void Two_writes_get_different_uids()
    {
        var instances = series.Odd.Instances();
        var a = new SegmentationWriter().Write(instances, series.Odd.Labels, SourceSliceSelection.Central, Algorithm);
        var b = new SegmentationWriter().Write(instances, series.Odd.Labels, SourceSliceSelection.Central, Algorithm);
        a.SeriesInstanceUid.Should().NotBe(b.SeriesInstanceUid);
        a.SopInstanceUid.Should().NotBe(b.SopInstanceUid);
    }

    [Fact]
    public void Three_segments_carry_numbers_labels_codes_colours_and_the_algorithm()
    {
        var ds = new SegmentationWriter().Write(series.Odd.Instances(), series.Odd.Labels, SourceSliceSelection.Central, Algorithm).Dataset;
        var segments = ds.GetSequence(DicomTags.SegmentSequence)!.Items;
        segments.Select(s => (int)s.GetUInt16(DicomTags.SegmentNumber)!).Should().Equal(1, 2, 3);
        segments.Select(s => s.GetString(DicomTags.SegmentLabel)).Should().Equal("Spinal canal", "Vertebrae", "Intervertebral discs");
        segments.Select(s => CodedConcept.FromSequence(s, DicomTags.SegmentedPropertyTypeCodeSequence)!.Value).Should().Equal("61853006", "51282000", "360499006");
        foreach (var segment in segments)
        {
            CodedConcept.FromSequence(segment, DicomTags.SegmentedPropertyCategoryCodeSequence).Should().Be(new CodedConcept("91723000", "SCT", "Anatomical Structure"));
            CodedConcept.FromSequence(segment, DicomTags.SegmentedPropertyTypeCodeSequence)!.Scheme.Should().Be("SCT");
            CodedConcept.FromSequence(segment, DicomTags.AnatomicRegionSequence)!.Value.Should().Be("122496007");
            segment.GetString(DicomTags.SegmentAlgorithmType).Should().Be("AUTOMATIC");
            segment.GetString(DicomTags.SegmentAlgorithmName).Should().Be("SpineSegDiff");
            var algorithm = segment.GetSequence(DicomTags.SegmentationAlgorithmIdentificationSequence)!.Items.Single();
            algorithm.GetString(DicomTags.AlgorithmName).Should().Be("SpineSegDiff");
            algorithm.GetString(DicomTags.AlgorithmVersion).Should().Be("preseg 1.2.0; diffusion 0.9.1");
            CodedConcept.FromSequence(algorithm, DicomTags.AlgorithmFamilyCodeSequence)!.Value.Should().Be("123109");
        }
        var colours = segments.Select(s => DicomCieLab.FromScaled(s.GetValues<ushort>(DicomTags.RecommendedDisplayCIELabValue))).ToList();
        colours.Should().Equal(new SrgbColor(0, 0, 255), new SrgbColor(0, 255, 0), new SrgbColor(255, 0, 0));
        // The scaled values docs/results.md lists.
        segments.Select(s => string.Join(',', s.GetValues<ushort>(DicomTags.RecommendedDisplayCIELabValue)))
            .Should().Equal("21166,53247,5176", "57497,10747,54273", "34891,53480,50167");
    }

    [Fact]
    public void Every_frame_has_its_functional_groups_and_the_dimensions_are_segment_then_position()
    {
        var result = new SegmentationWriter().Write(series.Odd.Instances(), series.Odd.Labels, SourceSliceSelection.All, Algorithm);
        var ds = result.Dataset;
        var shared = ds.GetSequence(DicomTags.SharedFunctionalGroupsSequence)!.Items.Single();
        shared.GetSequence(DicomTags.PixelMeasuresSequence)!.Items.Single().GetDecimalStrings(DicomTags.PixelSpacing).Should().Equal(0.8, 0.7);
        shared.GetSequence(DicomTags.PlaneOrientationSequence)!.Items.Single().GetDecimalStrings(DicomTags.ImageOrientationPatient).Should().Equal(0, 1, 0, 0, 0, -1);

        var dimensions = ds.GetSequence(DicomTags.DimensionIndexSequence)!.Items;
        dimensions.Select(d => d.GetTags(DicomTags.DimensionIndexPointer).Single()).Should().Equal(DicomTags.ReferencedSegmentNumber, DicomTags.ImagePositionPatient);
        dimensions.Select(d => d.GetTags(DicomTags.FunctionalGroupPointer).Single()).Should().Equal(DicomTags.SegmentIdentificationSequence, DicomTags.PlanePositionSequence);
        var organization = ds.GetSequence(DicomTags.DimensionOrganizationSequence)!.Items.Single().GetString(DicomTags.DimensionOrganizationUID);
        dimensions.Should().OnlyContain(d => d.GetString(DicomTags.DimensionOrganizationUID) == organization);

        var perFrame = ds.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)!.Items;
        perFrame.Should().HaveCount(result.Frames.Count);
        ds.GetIntegerStrings(DicomTags.NumberOfFrames).Single().Should().Be(result.Frames.Count);
        var previous = (0u, 0u);
        for (var f = 0; f < perFrame.Count; f++)
        {
            var frame = result.Frames[f];
            var groups = perFrame[f];
            var index = groups.GetSequence(DicomTags.FrameContentSequence)!.Items.Single().GetValues<uint>(DicomTags.DimensionIndexValues);
            index.Should().HaveCount(2);
            index[0].Should().Be((uint)frame.SegmentNumber);
            (index[0], index[1]).CompareTo(previous).Should().BePositive("frames are sorted by segment, then position");
            previous = (index[0], index[1]);
            groups.GetSequence(DicomTags.SegmentIdentificationSequence)!.Items.Single().GetUInt16(DicomTags.ReferencedSegmentNumber).Should().Be((ushort)frame.SegmentNumber);
            var derivation = groups.GetSequence(DicomTags.DerivationImageSequence)!.Items.Single();
            CodedConcept.FromSequence(derivation, DicomTags.DerivationCodeSequence)!.Value.Should().Be("113076");
            var sourceImage = derivation.GetSequence(DicomTags.SourceImageSequence)!.Items.Single();
            sourceImage.GetString(DicomTags.ReferencedSOPInstanceUID).Should().Be(frame.SourceSopInstanceUid);
            sourceImage.GetString(DicomTags.ReferencedSOPClassUID).Should().Be(DicomUids.MRImageStorage);
            CodedConcept.FromSequence(sourceImage, DicomTags.PurposeOfReferenceCodeSequence).Should().Be(new CodedConcept("121322", "DCM", "Source image for image processing operation"));
            var source = series.Odd.Instances().Single(i => i.GetString(DicomTags.SOPInstanceUID) == frame.SourceSopInstanceUid);
            groups.GetSequence(DicomTags.PlanePositionSequence)!.Items.Single().GetString(DicomTags.ImagePositionPatient)
                .Should().Be(source.GetString(DicomTags.ImagePositionPatient));
        }
        var referenced = ds.GetSequence(DicomTags.ReferencedSeriesSequence)!.Items.Single();
        referenced.GetString(DicomTags.SeriesInstanceUID).Should().Be(series.Odd.Instances()[0].GetString(DicomTags.SeriesInstanceUID));
        referenced.GetSequence(DicomTags.ReferencedInstanceSequence)!.Items.Should().HaveCount(series.Odd.Slices);
    }

    [Fact]
    public void Empty_frames_are_left_out_but_an_empty_segment_stays_described()
    {
        // The tiny series leaves its first and last slices empty and has no canal on the last two.
        var labels = series.Odd.LabelsWithout(3);
        var result = new SegmentationWriter().Write(series.Odd.Instances(), labels, SourceSliceSelection.All, Algorithm);
        result.EmptySegmentNumbers.Should().Equal(3);
        result.Dataset.GetSequence(DicomTags.SegmentSequence)!.Items.Should().HaveCount(3);
        result.Frames.Should().NotContain(f => f.SegmentNumber == 3);
        result.Frames.Where(f => f.SegmentNumber == 2).Select(f => f.SourceSliceIndex).Should().Equal(1, 2, 3);
        result.Frames.Where(f => f.SegmentNumber == 1).Select(f => f.SourceSliceIndex).Should().Equal(1, 2);
    }

    [Fact]
    public void When_nothing_was_found_every_frame_is_written_empty()
    {
        var empty = new Volume<byte>(series.Odd.Labels.Geometry);
        var result = new SegmentationWriter().Write(series.Odd.Instances(), empty, SourceSliceSelection.Central, Algorithm);
        result.EmptySegmentNumbers.Should().Equal(1, 2, 3);
        result.Frames.Select(f => f.SegmentNumber).Should().Equal(1, 2, 3);
        result.Dataset.GetIntegerStrings(DicomTags.NumberOfFrames).Single().Should().Be(3);
    }

    [Fact]
    public void The_central_slice_is_the_middle_of_the_series_order()
    {
        var result = new SegmentationWriter().Write(series.Odd.Instances(), series.Odd.Labels, SourceSliceSelection.Central, Algorithm);
        result.SourceSlices.Should().Equal(2);
        result.Frames.Should().OnlyContain(f => f.SourceSliceIndex == 2);
    }

    [Fact]
    public void A_label_map_off_the_source_grid_is_refused()
    {
        var g = series.Odd.Labels.Geometry;
        var shifted = new Volume<byte>(new VolumeGeometry(g.Size0, g.Size1, g.Size2, g.Spacing, g.Origin + new Vec3(0, 0, 2), g.Direction), series.Odd.Labels.Voxels);
        var act = () => new SegmentationWriter().Write(series.Odd.Instances(), shifted, SourceSliceSelection.All, Algorithm);
        act.Should().Throw<ArgumentException>().WithMessage("*not on the source series grid*");

        var small = new Volume<byte>(new VolumeGeometry(g.Size0 - 1, g.Size1, g.Size2, g.Spacing, g.Origin, g.Direction));
        var act2 = () => new SegmentationWriter().Write(series.Odd.Instances(), small, SourceSliceSelection.All, Algorithm);
        act2.Should().Throw<ArgumentException>().WithMessage("*316x321x5*");
    }

    [Fact]
    public void Labels_outside_0_to_3_are_refused()
    {
        var voxels = (byte[])series.Odd.Labels.Voxels.Clone();
        voxels[voxels.Length / 2 + 5] = 7;
        var act = () => new SegmentationWriter().Write(series.Odd.Instances(), new Volume<byte>(series.Odd.Labels.Geometry, voxels), SourceSliceSelection.Central, Algorithm);
        act.Should().Throw<ArgumentException>().WithMessage("*Label value 7*");
    }

    [Fact]
    public void The_file_is_part_10_explicit_vr_little_endian()
    {
        using var temp = new SpineSegDiff.Integration.Tests.Peers.TempDirectory();
        var result = new SegmentationWriter().Write(series.Odd.Instances(), series.Odd.Labels, SourceSliceSelection.Central, Algorithm);
        var path = temp.Combine("seg.dcm");
        SegmentationWriter.Save(result.Dataset, path);
        var file = DicomFile.Open(path);
        file.TransferSyntax.Should().Be(DicomTransferSyntax.ExplicitVRLittleEndian);
        file.FileMetaInformation.GetString(new DicomTag(0x0002, 0x0002)).Should().Be(DicomUids.SegmentationStorage);
        file.Dataset.ContentEquals(result.Dataset).Should().BeTrue(file.Dataset.FirstDifference(result.Dataset));
    }
}
