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
    public void Disc_gradings_carry_every_finding_of_the_gradings_file()
    {
        var catalog = SpiderData.Catalog;
        // Rows of radiological_gradings.csv (Patient,IVD label,Modic,UP endplate,LOW endplate,Spondylolisthesis,
        // Disc herniation,Disc narrowing,Disc bulging,Pfirrman grade), chosen so each column differs from its neighbours.
        catalog.DiscGrading(184, 1).Should().Be(new DiscGrading(184, 1, Pfirrmann: 4, Narrowing: true, Spondylolisthesis: true,
            Herniation: false, Bulging: true, Modic: 0, UpperEndplate: true, LowerEndplate: true)); // 184,1,0,1,1,1,0,1,1,4
        catalog.DiscGrading(10, 2).Should().Be(new DiscGrading(10, 2, Pfirrmann: 5, Narrowing: true, Spondylolisthesis: false,
            Herniation: true, Bulging: false, Modic: 2, UpperEndplate: true, LowerEndplate: true)); // 10,2,2,1,1,0,1,1,0,5
        catalog.DiscGrading(1, 6).Should().Be(new DiscGrading(1, 6, Pfirrmann: 4, Narrowing: true, Spondylolisthesis: false,
            Herniation: false, Bulging: false, Modic: 0, UpperEndplate: false, LowerEndplate: true)); // 1,6,0,0,1,0,0,1,0,4
        catalog.DiscGrading(17, 2).Should().Be(new DiscGrading(17, 2, Pfirrmann: 1, Narrowing: false, Spondylolisthesis: false,
            Herniation: false, Bulging: true, Modic: 3, UpperEndplate: false, LowerEndplate: false)); // 17,2,3,0,0,0,0,0,1,1
        catalog.DiscGrading(184, 8).Should().BeNull();
        catalog.DiscGrading(9999, 1).Should().BeNull();
        catalog.PfirrmannGrade(9999, 1).Should().BeNull();
        catalog.DiscGradings(110).Select(g => g.DiscFromBottom).Should().Equal(1, 2, 3, 4, 5, 6, 7);
        catalog.DiscGradings(110).Select(g => g.Pfirrmann).Should().Equal(5, 3, 3, 3, 5, 3, 3);
        catalog.DiscGradings(9999).Should().BeEmpty();
    }

    [Fact]
    public void Every_row_of_the_gradings_file_is_read_and_the_pfirrmann_lookup_agrees()
    {
        var catalog = SpiderData.Catalog;
        var lines = File.ReadAllLines(Path.Combine(catalog.Root, "metadata", "radiological_gradings.csv"));
        lines[0].Should().Be("Patient,IVD label,Modic,UP endplate,LOW endplate,Spondylolisthesis,Disc herniation,Disc narrowing,Disc bulging,Pfirrman grade");
        lines.Length.Should().BeGreaterThan(1000);
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var v = line.Split(',').Select(int.Parse).ToArray();
            var grading = catalog.DiscGrading(v[0], v[1]);
            grading.Should().Be(new DiscGrading(v[0], v[1], v[9], v[7] != 0, v[5] != 0, v[6] != 0, v[8] != 0, v[2], v[3] != 0, v[4] != 0), line);
            catalog.PfirrmannGrade(v[0], v[1]).Should().Be(v[9]);
        }
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
    public void Training_patients_are_dealt_into_balanced_folds_that_depend_only_on_the_patients()
    {
        var training = SpiderData.Catalog.Split.TrainingPatients;
        var folds = new TrainingFolds(training, 2);

        var first = folds.Patients(0);
        var second = folds.Patients(1);
        first.Concat(second).Order().Should().Equal(training.Order(), "every training patient is in exactly one fold");
        first.Should().NotIntersectWith(second);
        Math.Abs(first.Count - second.Count).Should().BeLessThanOrEqualTo(1);
        first.Should().OnlyContain(p => folds.FoldOf(p) == 0);
        new TrainingFolds(training.Reverse(), 2).Patients(0).Should().Equal(first, "the order patients are listed in does not matter");
        new TrainingFolds(training, 3).Patients(2).Should().NotBeEmpty();
        FluentActions.Invoking(() => folds.FoldOf(SpiderData.Catalog.Split.ValidationPatients[0])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new TrainingFolds(training, 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new TrainingFolds([4], 2)).Should().Throw<ArgumentException>().WithMessage("*at least 2*");
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
