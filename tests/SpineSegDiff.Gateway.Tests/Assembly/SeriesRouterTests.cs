using SpineSegDiff.Dicom;
using SpineSegDiff.Gateway.Assembly;
using SpineSegDiff.Gateway.Routing;

namespace SpineSegDiff.Gateway.Tests.Assembly;

public sealed class SeriesRouterTests
{
    private static readonly RoutingOptions Rules = new()
    {
        Rules =
        [
            new RoutingRule { Name = "t2-fast", BodyParts = ["LSPINE", "SPINE"], SeriesDescriptionPatterns = ["SAG.*T2"], Weighting = Weighting.T2, Profile = "fast", Destinations = ["pacs"] },
            new RoutingRule { Name = "any-sagittal", Profile = "paper", MinimumSlices = 10 },
        ],
    };

    [Fact]
    public void The_first_matching_rule_decides()
    {
        var router = new SeriesRouter(Rules);
        router.Route(Facts(Header("SAG T2 TSE", "LSPINE", Sagittal), 15)).Rule!.Name.Should().Be("t2-fast");
        router.Route(Facts(Header("SAG T1", "LSPINE", Sagittal), 15)).Rule!.Name.Should().Be("any-sagittal");
    }

    [Fact]
    public void A_series_no_rule_takes_is_not_routed_with_every_rules_reason()
    {
        var router = new SeriesRouter(Rules);
        var axial = router.Route(Facts(Header("AX T2", "LSPINE", Axial), 15));
        axial.Routed.Should().BeFalse();
        axial.Reason.Should().Contain("t2-fast: not sagittal").And.Contain("any-sagittal: not sagittal");

        var ct = router.Route(Facts(Header("SAG T2", "LSPINE", Sagittal, modality: "CT"), 15));
        ct.Reason.Should().Contain("modality CT, not MR");
        router.Route(Facts(Header("SAG T2", "LSPINE", Sagittal), 4)).Reason.Should().Contain("4 slices, fewer than 5").And.Contain("fewer than 10");
        router.Route(Facts(Header("SAG T2", "HEAD", Sagittal), 4)).Reason.Should().Contain("body part HEAD");
    }

    [Fact]
    public void A_slightly_oblique_sagittal_series_is_sagittal()
    {
        // 20 degrees about the anterior-posterior axis, as the phantom and real scanners tilt.
        var (c, s) = (Math.Cos(20 * Math.PI / 180), Math.Sin(20 * Math.PI / 180));
        var facts = Facts(Header("SAG T2", "LSPINE", [0, 1, 0, s, 0, -c]), 15);
        facts.SagittalAngleDegrees.Should().BeApproximately(20, 0.01);
        new SeriesRouter(Rules).Route(facts).Routed.Should().BeTrue();
    }

    [Theory]
    [InlineData("SAG T2 TSE", null, null, Weighting.T2)]
    [InlineData("sag t1w", null, null, Weighting.T1)]
    [InlineData("SAG STIR", 15.0, 500.0, Weighting.T1)]
    [InlineData("SAG", 100.0, 3500.0, Weighting.T2)]
    [InlineData("SAG", 40.0, 1200.0, Weighting.Any)]
    [InlineData("T1 T2 COMPARE", 100.0, 3500.0, Weighting.T2)]
    public void Weighting_comes_from_the_description_else_from_te_and_tr(string description, double? te, double? tr, Weighting expected) =>
        SeriesFacts.WeightingOf(description, te, tr).Should().Be(expected);

    [Fact]
    public void Rules_are_validated_against_profiles_and_destinations()
    {
        var errors = new RoutingOptions
        {
            Rules =
            [
                new RoutingRule { Name = "a", Profile = "slow", Destinations = ["nowhere"], SeriesDescriptionPatterns = ["("] },
                new RoutingRule { Name = "a", MinimumSlices = 0 },
            ],
        }.Validate(["paper", "fast", "presegmentation"], ["pacs"]);

        errors.Should().Contain(e => e.Contains("Rules:0:Profile 'slow'"));
        errors.Should().Contain(e => e.Contains("Rules:0:Destinations names 'nowhere'"));
        errors.Should().Contain(e => e.Contains("not a valid regular expression"));
        errors.Should().Contain(e => e.Contains("Rules:1:MinimumSlices"));
        errors.Should().Contain(e => e.Contains("two rules named 'a'"));
        new RoutingOptions().Validate(["paper"], []).Should().ContainSingle().Which.Should().Contain("no series would ever be segmented");
    }

    private static readonly double[] Sagittal = [0, 1, 0, 0, 0, -1];
    private static readonly double[] Axial = [1, 0, 0, 0, 1, 0];

    private static DicomDataset Header(string description, string bodyPart, double[] orientation, string modality = "MR")
    {
        var ds = new DicomDataset();
        ds.SetString(DicomTags.Modality, modality);
        ds.SetString(DicomTags.SeriesDescription, description);
        ds.SetString(DicomTags.BodyPartExamined, bodyPart);
        ds.SetDecimalString(DicomTags.ImageOrientationPatient, orientation);
        return ds;
    }

    private static SeriesFacts Facts(DicomDataset header, int slices) =>
        SeriesFacts.Of(new AssembledSeries("1.2", "1.2.3", Enumerable.Range(0, slices).Select(i => $"/s/{i}").ToList(), header, "PACS", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, false));
}
