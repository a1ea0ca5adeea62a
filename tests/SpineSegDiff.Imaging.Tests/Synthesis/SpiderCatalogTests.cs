using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Tests.Support;

namespace SpineSegDiff.Imaging.Tests.Synthesis;

public sealed class SpiderCatalogTests
{
    [Fact]
    public void Lists_every_case_with_its_patient_series_kind_and_metadata()
    {
        var catalog = SpiderData.Catalog;
        catalog.Cases.Should().HaveCount(39);
        catalog.Cases.Select(c => c.Patient).Distinct().Should().HaveCount(35);
        var space = catalog.Case("110_t2_SPACE");
        space.Patient.Should().Be(110);
        space.Kind.Should().Be(SpiderSeriesKind.T2Space);
        catalog.Metadata(catalog.Case("104_t2"))!.SeriesDescription.Should().Be("SAG T2 TSE");
        catalog.Cases.Should().OnlyContain(c => catalog.Metadata(c) != null);
        catalog.PfirrmannGrade(104, 1).Should().Be(4);
    }

    [Fact]
    public void The_split_is_by_patient_about_a_fifth_and_reproducible()
    {
        var catalog = SpiderData.Catalog;
        var split = catalog.Split;
        split.ValidationPatients.Should().HaveCount(7);
        split.TrainingPatients.Should().HaveCount(28);
        split.TrainingPatients.Intersect(split.ValidationPatients).Should().BeEmpty();
        foreach (var group in catalog.Cases.GroupBy(c => c.Patient))
        {
            group.Select(catalog.IsValidation).Distinct().Should().HaveCount(1, $"all series of patient {group.Key} fall on one side");
        }
        var reversed = DatasetSplit.Create(catalog.Cases.Select(c => c.Patient).Reverse());
        reversed.ValidationPatients.Should().Equal(split.ValidationPatients);
        catalog.ValidationCases.Select(c => c.Kind).Should().Contain([SpiderSeriesKind.T1, SpiderSeriesKind.T2]);
    }

    [Fact]
    public void The_model_card_record_names_patients_and_hashes_the_data()
    {
        var record = SpiderData.Catalog.SplitRecord();
        record.DataSha256.Should().MatchRegex("^[0-9a-f]{64}$");
        record.Files.Should().HaveCount(41).And.Contain("metadata/overview.csv").And.Contain("masks/104_t1.mha");
        record.ValidationCases.Should().NotIntersectWith(record.TrainingCases);
        SpiderCatalog.Open(SpiderData.Catalog.Root).DataSha256.Should().Be(record.DataSha256);
    }
}
