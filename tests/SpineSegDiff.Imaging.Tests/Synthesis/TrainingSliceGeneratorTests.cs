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
    public void Asking_for_disc_ranks_leaves_image_labels_and_parameters_unchanged()
    {
        foreach (var (id, seed) in new[] { ("104_t2", 123), ("24_t1", 0), ("110_t2_SPACE", 7), ("250_t2", 99_999) })
        {
            var spiderCase = SpiderData.Catalog.Case(id);
            var plain = Generator.Generate(spiderCase, seed);
            var ranked = Generator.GenerateWithDiscRanks(spiderCase, seed);
            ranked.Image.Should().Equal(plain.Image, $"{id} seed {seed}");
            ranked.Labels.Should().Equal(plain.Labels, $"{id} seed {seed}");
            ranked.Parameters.Should().Be(plain.Parameters);

            var image = new float[320 * 320];
            var labels = new byte[320 * 320];
            var ranks = new byte[320 * 320];
            Generator.Generate(spiderCase, seed, image, labels, ranks, MrContrast.T1).Should().Be(Generator.Generate(spiderCase, seed, MrContrast.T1).Parameters);
            labels.Should().Equal(Generator.Generate(spiderCase, seed, MrContrast.T1).Labels);
        }
    }

    [Fact]
    public void Every_disc_pixel_has_a_rank_and_no_other_pixel_does()
    {
        foreach (var id in new[] { "104_t2", "24_t1", "110_t2_SPACE", "166_t2" })
        {
            var spiderCase = SpiderData.Catalog.Case(id);
            var discCount = Generator.Anatomy(spiderCase).DiscCount;
            for (var seed = 0; seed < 3; seed++)
            {
                var sample = Generator.GenerateWithDiscRanks(spiderCase, seed);
                for (var p = 0; p < sample.Labels.Length; p++)
                {
                    if (sample.Labels[p] == LabelClasses.Disc)
                    {
                        ((int)sample.DiscRanks[p]).Should().BeInRange(1, discCount, $"{id} seed {seed} pixel {p} is a disc");
                    }
                    else if (sample.DiscRanks[p] != 0)
                    {
                        sample.DiscRanks[p].Should().Be(0, $"{id} seed {seed} pixel {p} is label {sample.Labels[p]}, not a disc");
                    }
                }
                sample.DiscRanks.Distinct().Count().Should().BeGreaterThan(3, $"{id} seed {seed} shows several discs");
            }
        }
    }

    [Fact]
    public void Disc_ranks_count_upward_from_the_lowest_disc()
    {
        // Canonical rows run toward inferior, so a higher rank (a disc further up) sits on smaller row indices.
        foreach (var id in new[] { "104_t2", "110_t2_SPACE", "250_t2" })
        {
            for (var seed = 0; seed < 3; seed++)
            {
                var sample = Generator.GenerateWithDiscRanks(SpiderData.Catalog.Case(id), seed);
                var meanRows = sample.DiscRanks
                    .Select((rank, p) => (Rank: rank, Row: p / 320))
                    .Where(x => x.Rank > 0)
                    .GroupBy(x => x.Rank)
                    .Where(g => g.Count() >= 20)
                    .OrderBy(g => g.Key)
                    .Select(g => g.Average(x => x.Row))
                    .ToList();
                meanRows.Should().HaveCountGreaterThan(3);
                meanRows.Should().BeInDescendingOrder($"{id} seed {seed}: disc 1 is the lowest");
            }
        }
    }

    [Fact]
    public void Rejects_a_disc_rank_buffer_of_the_wrong_size() =>
        FluentActions.Invoking(() => Generator.Generate(SpiderData.Catalog.Cases[0], 1, new float[320 * 320], new byte[320 * 320], new byte[10]))
            .Should().Throw<ArgumentException>();

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
