using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.Network;
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
    public void A_series_sent_to_an_ae_title_is_matched_only_against_that_titles_rules()
    {
        var titles = new DicomServerOptions
        {
            AeTitles =
            [
                new CalledAeTitleOptions { AeTitle = "SEGNODE" },
                new CalledAeTitleOptions { AeTitle = "SEGWIDE", Rules = ["any-sagittal"] },
            ],
        }.ResolvedAeTitles();
        var router = new SeriesRouter(Rules, new CalledAeRules(titles));
        var t2 = Facts(Header("SAG T2 TSE", "LSPINE", Sagittal), 15);

        router.Route(t2, "SEGNODE").Rule!.Name.Should().Be("t2-fast", "SEGNODE applies every rule");
        router.Route(t2, "SEGWIDE").Rule!.Name.Should().Be("any-sagittal", "SEGWIDE skips t2-fast");
        router.Route(t2, "SEGWIDE  ").Rule!.Name.Should().Be("any-sagittal", "AE titles compare without padding");

        var few = router.Route(Facts(Header("SAG T2 TSE", "LSPINE", Sagittal), 6), "SEGWIDE");
        few.Routed.Should().BeFalse("t2-fast would take it, but does not apply to SEGWIDE");
        few.Reason.Should().StartWith("any-sagittal: 6 slices").And.EndWith("; rules [t2-fast] do not apply to this AE title").And.NotContain("t2-fast:");
    }

    [Fact]
    public void An_unconfigured_called_ae_title_gets_the_main_titles_rules()
    {
        var rules = new CalledAeRules(new DicomServerOptions
        {
            AeTitles = [new CalledAeTitleOptions { AeTitle = "MAIN", Rules = ["t2-fast"] }, new CalledAeTitleOptions { AeTitle = "OTHER" }],
        }.ResolvedAeTitles());

        rules.RulesFor("MAIN").Should().Equal("t2-fast");
        rules.RulesFor("OTHER").Should().BeEmpty();
        rules.RulesFor("UNKNOWN").Should().Equal("t2-fast");
        CalledAeRules.All.RulesFor("ANY").Should().BeEmpty();
    }

    [Fact]
    public void Rule_names_of_ae_titles_must_be_defined()
    {
        var dicom = new DicomServerOptions
        {
            AeTitles =
            [
                new CalledAeTitleOptions { AeTitle = "A", Rules = ["t2-fast"] },
                new CalledAeTitleOptions { AeTitle = "B", Rules = ["any-sagittal", "no-such-rule"] },
            ],
        };

        CalledAeRules.Validate(dicom, Rules).Should().Equal("Dicom:AeTitles:1:Rules names 'no-such-rule', which is not in Gateway:Routing:Rules.");
        CalledAeRules.Validate(new DicomServerOptions(), Rules).Should().BeEmpty();
    }

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
        SeriesFacts.Of(new AssembledSeries("1.2", "1.2.3", Enumerable.Range(0, slices).Select(i => $"/s/{i}").ToList(), header, "PACS", "SEGNODE", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, false));
}
