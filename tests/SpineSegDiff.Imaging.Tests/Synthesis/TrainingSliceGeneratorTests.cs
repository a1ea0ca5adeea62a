using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Imaging.Tests.Support;

namespace SpineSegDiff.Imaging.Tests.Synthesis;

public sealed class TrainingSliceGeneratorTests
{
    private static readonly Lazy<TrainingSliceGenerator> Shared = new(() => new TrainingSliceGenerator(SpiderData.Catalog));

    private static TrainingSliceGenerator Generator => Shared.Value;

    [Fact]
    public void Same_case_and_seed_give_identical_samples_and_another_seed_differs()
    {
        var spiderCase = SpiderData.Catalog.Case("104_t2");
        var a = Generator.Generate(spiderCase, 123);
        var b = new TrainingSliceGenerator(SpiderData.Catalog).Generate(spiderCase, 123);
        var c = Generator.Generate(spiderCase, 124);
        b.Image.Should().Equal(a.Image);
        b.Labels.Should().Equal(a.Labels);
        b.Parameters.Should().Be(a.Parameters);
        c.Image.Should().NotEqual(a.Image);
    }

    [Fact]
    public void Samples_are_normalised_model_grid_pairs_with_all_classes()
    {
        foreach (var id in new[] { "24_t1", "110_t2_SPACE", "166_t2", "250_t2" })
        {
            for (var seed = 0; seed < 3; seed++)
            {
                var sample = Generator.Generate(SpiderData.Catalog.Case(id), seed);
                sample.Image.Should().HaveCount(320 * 320);
                sample.Labels.Should().HaveCount(320 * 320);
                sample.Image.Should().OnlyContain(v => v >= 0 && v <= 1);
                sample.Labels.Should().OnlyContain(l => l <= 3);
                for (byte label = 1; label <= 3; label++)
                {
                    sample.Labels.Count(l => l == label).Should().BeGreaterThan(100, $"{id} seed {seed} shows class {label}");
                }
                // 98th percentile -> 1: about 2% of the acquired pixels saturate, fewer after resampling and padding.
                sample.Image.Count(v => v >= 0.999f).Should().BeInRange(1, 320 * 320 / 20);
                sample.Parameters.ResolutionMm.Should().BeInRange(0.3, 1.2);
                Math.Abs(sample.Parameters.SliceOffset).Should().BeLessThanOrEqualTo(6);
            }
        }
    }

    [Theory]
    [InlineData(MrContrast.T2)]
    [InlineData(MrContrast.T1)]
    public void Contrast_models_put_csf_and_bone_the_right_way_round(MrContrast contrast)
    {
        foreach (var id in new[] { "104_t1", "127_t2_SPACE", "241_t1" })
        {
            for (var seed = 10; seed < 14; seed++)
            {
                var sample = Generator.Generate(SpiderData.Catalog.Case(id), seed, contrast);
                var canal = Mean(sample, LabelClasses.SpinalCanal);
                var bone = Mean(sample, LabelClasses.Vertebra);
                if (contrast == MrContrast.T2)
                {
                    canal.Should().BeGreaterThan(bone + 0.1, $"{id} seed {seed}: CSF is bright on T2");
                }
                else
                {
                    canal.Should().BeLessThan(bone - 0.1, $"{id} seed {seed}: CSF is dark on T1");
                }
            }
        }
    }

    [Fact]
    public void Degenerated_discs_are_darker_than_healthy_ones_on_t2()
    {
        var catalog = SpiderData.Catalog;
        // Patient 110: discs 1 and 5 are Pfirrmann 5, the others 3 (radiological_gradings.csv).
        var anatomy = Generator.Anatomy(catalog.Case("110_t2_SPACE"));
        anatomy.Pfirrmann(1).Should().Be(5);
        anatomy.Pfirrmann(2).Should().Be(3);
        var tissue = new TissueIntensities { DiscHealthy = 0.8f, DiscDegenerated = 0.2f };
        tissue.Disc(5).Should().BeLessThan(tissue.Disc(3));
        tissue.Disc(1).Should().Be(0.8f);
    }

    [Fact]
    public void Parallel_use_of_one_generator_gives_the_sequential_results()
    {
        var cases = SpiderData.Catalog.TrainingCases.Take(4).ToList();
        var sequential = Enumerable.Range(0, 8).Select(i => Generator.Generate(cases[i % 4], 1000 + i)).ToList();
        var parallel = new TrainingSample[8];
        Parallel.For(0, 8, i => parallel[i] = Generator.Generate(cases[i % 4], 1000 + i));
        for (var i = 0; i < 8; i++)
        {
            parallel[i].Image.Should().Equal(sequential[i].Image);
            parallel[i].Labels.Should().Equal(sequential[i].Labels);
        }
    }

    [Fact]
    public void Rejects_buffers_of_the_wrong_size() =>
        FluentActions.Invoking(() => Generator.Generate(SpiderData.Catalog.Cases[0], 1, new float[10], new byte[10]))
            .Should().Throw<ArgumentException>();

    private static double Mean(TrainingSample sample, byte label)
    {
        double sum = 0;
        var n = 0;
        for (var p = 0; p < sample.Image.Length; p++)
        {
            if (sample.Labels[p] == label)
            {
                sum += sample.Image[p];
                n++;
            }
        }
        return sum / Math.Max(1, n);
    }
}
