using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Imaging.Synthesis;
using SpineSegDiff.Segmentation.Networks;
using SpineSegDiff.Segmentation.Tests.Networks;
using SpineSegDiff.Segmentation.Training;

namespace SpineSegDiff.Segmentation.Tests.Training;

/// <summary>The training loop end to end on the real SPIDER label maps, with tiny networks and patches.</summary>
[Collection(NativeEngineCollection.Name)]
public sealed class TrainingRunTests : IDisposable
{
    private static readonly Lazy<TrainingSliceGenerator> SharedGenerator = new(() => new TrainingSliceGenerator(SpiderCatalog.Open()));
    private readonly NativeEngineFixture _engine;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "spineseg-train-" + Guid.NewGuid().ToString("N")[..8]);

    public TrainingRunTests(NativeEngineFixture engine) => _engine = engine;

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private TrainingOptions Tiny(TrainingTarget target, string folder) => new()
    {
        Target = target,
        OutputDirectory = Path.Combine(_root, folder),
        Steps = 4,
        BatchSize = 2,
        CropSize = 64,
        Widths = [4, 8, 16],
        WarmupSteps = 1,
        ValidateEvery = 4,
        CheckpointEvery = 2,
        ValidationSamplesPerContrast = 1,
        Seed = 5,
    };

    private Task<TrainingResult> RunAsync(TrainingOptions options) =>
        new TrainingRun(options, SharedGenerator.Value, _engine.Runtime, TextWriter.Null, interactive: false).RunAsync(CancellationToken.None);

    private static float[] Predict(string modelPath)
    {
        using var network = PresegmentationNetwork.Load(modelPath);
        var image = SharedGenerator.Value.Generate(SharedGenerator.Value.Catalog.ValidationCases.First(), 3, MrContrast.T2).Image;
        return network.Forward(image, 1, TrainingSliceGenerator.Size, TrainingSliceGenerator.Size);
    }

    [Fact]
    public async Task A_finished_run_writes_the_model_and_a_card_that_keeps_validation_patients_out_of_training()
    {
        var result = await RunAsync(Tiny(TrainingTarget.Presegmentation, "preseg"));

        result.Finished.Should().BeTrue();
        result.CompletedSteps.Should().Be(4);
        File.Exists(result.ModelPath).Should().BeTrue();
        var card = ModelCard.Load(result.ModelPath!);
        card.Steps.Should().Be(4);
        card.Seed.Should().Be(5);
        card.ValidationDice.Should().ContainKeys("spinalCanal", "vertebra", "disc");
        card.ValidationDice!.Values.Should().OnlyContain(d => d >= 0 && d <= 1);
        card.Notice.Should().Contain("Not for clinical use");
        card.TrainingData.Split.TrainingPatients.Should().NotBeEmpty();
        card.TrainingData.Split.ValidationPatients.Should().NotBeEmpty();
        card.TrainingData.Split.TrainingPatients.Should().NotIntersectWith(card.TrainingData.Split.ValidationPatients);
        card.TrainingData.Split.DataSha256.Should().MatchRegex("^[0-9a-f]{64}$");
        card.Configuration["widths"]!.AsArray().Select(n => (int)n!).Should().Equal(4, 8, 16);
    }

    [Fact]
    public async Task A_run_stopped_and_resumed_ends_exactly_where_an_uninterrupted_run_ends()
    {
        var straight = await RunAsync(Tiny(TrainingTarget.Presegmentation, "straight"));

        var split = Tiny(TrainingTarget.Presegmentation, "split");
        var first = await RunAsync(split with { StopAfterStep = 2 });
        first.Finished.Should().BeFalse();
        first.CompletedSteps.Should().Be(2);
        first.ModelPath.Should().BeNull();
        var resumed = await RunAsync(split with { Resume = true });

        resumed.Finished.Should().BeTrue();
        var straightState = TrainingState.Load(TrainingRun.StatePath(Path.Combine(_root, "straight"), TrainingTarget.Presegmentation));
        var resumedState = TrainingState.Load(TrainingRun.StatePath(Path.Combine(_root, "split"), TrainingTarget.Presegmentation));
        resumedState.LastLoss.Should().Be(straightState.LastLoss);
        Predict(resumed.ModelPath!).Should().Equal(Predict(straight.ModelPath!));
    }

    [Fact]
    public async Task A_folder_with_a_run_is_not_overwritten_and_resume_needs_a_run()
    {
        var options = Tiny(TrainingTarget.Presegmentation, "guarded") with { Steps = 2, ValidateEvery = 2 };
        await RunAsync(options);

        await FluentActions.Awaiting(() => RunAsync(options)).Should().ThrowAsync<InvalidOperationException>().WithMessage("*--resume*");
        await FluentActions.Awaiting(() => RunAsync(Tiny(TrainingTarget.Presegmentation, "empty") with { Resume = true }))
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("Nothing to resume*");
    }

    [Fact]
    public async Task Diffusion_trains_on_the_noised_presegmentation_and_records_its_schedule()
    {
        var preseg = await RunAsync(Tiny(TrainingTarget.Presegmentation, "for-diffusion") with { Steps = 2, ValidateEvery = 2 });

        var result = await RunAsync(Tiny(TrainingTarget.Diffusion, "diffusion") with { Steps = 2, ValidateEvery = 2, PresegmentationModel = preseg.ModelPath });

        result.Finished.Should().BeTrue();
        var card = ModelCard.Load(result.ModelPath!);
        card.Configuration["maxTrainingTimestep"]!.GetValue<int>().Should().Be(30);
        card.Configuration["noiseSchedule"]!.GetValue<string>().Should().Be("cosine");
        using var network = SpineSegDiffNetwork.Load(result.ModelPath!);
        network.Config.Widths.Should().Equal(4, 8, 16);
    }

    [Fact]
    public async Task A_presegmentation_run_with_a_held_out_fold_trains_without_that_fold_and_says_so_on_its_card()
    {
        var output = new StringWriter();
        var options = Tiny(TrainingTarget.Presegmentation, "fold1") with { Steps = 2, ValidateEvery = 2, HeldOutFold = 1 };

        var result = await new TrainingRun(options, SharedGenerator.Value, _engine.Runtime, output, interactive: false).RunAsync(CancellationToken.None);

        var folds = new TrainingFolds(SharedGenerator.Value.Catalog.Split.TrainingPatients, 2);
        var card = ModelCard.Load(result.ModelPath!);
        card.Configuration[OutOfFoldPresegmentations.HeldOutFoldKey]!.GetValue<int>().Should().Be(1);
        card.Configuration[OutOfFoldPresegmentations.FoldCountKey]!.GetValue<int>().Should().Be(2);
        card.Configuration[OutOfFoldPresegmentations.HeldOutPatientsKey]!.AsArray().Select(p => p!.GetValue<int>()).Should().Equal(folds.Patients(1));
        output.ToString().Should().Contain($"({folds.Patients(0).Count} patients, fold 1 of 2 held out)");
    }

    [Fact]
    public async Task Out_of_fold_presegmentations_train_the_refiner_only_when_each_model_left_out_its_own_fold()
    {
        var fold0 = await RunAsync(Tiny(TrainingTarget.Presegmentation, "oof0") with { Steps = 2, ValidateEvery = 2, HeldOutFold = 0 });
        var fold1 = await RunAsync(Tiny(TrainingTarget.Presegmentation, "oof1") with { Steps = 2, ValidateEvery = 2, HeldOutFold = 1, Seed = 6 });
        var diffusion = Tiny(TrainingTarget.Diffusion, "oof-diffusion") with { Steps = 2, ValidateEvery = 2, PresegmentationModel = fold0.ModelPath };

        var result = await RunAsync(diffusion with { OutOfFoldPresegmentationModels = [fold0.ModelPath!, fold1.ModelPath!] });

        result.Finished.Should().BeTrue();
        ModelCard.Load(result.ModelPath!).Configuration["outOfFoldPresegmentationModels"]!.AsArray().Select(v => v!.GetValue<string>())
            .Should().Equal(ModelCard.Load(fold0.ModelPath!).Version, ModelCard.Load(fold1.ModelPath!).Version);
        await FluentActions.Awaiting(() => RunAsync(diffusion with
            {
                OutputDirectory = Path.Combine(_root, "swapped"),
                OutOfFoldPresegmentationModels = [fold1.ModelPath!, fold0.ModelPath!],
            }))
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("*--fold 0 of 2*its card says fold 1 of 2*");
        await FluentActions.Awaiting(() => RunAsync(diffusion with
            {
                OutputDirectory = Path.Combine(_root, "not-a-fold"),
                OutOfFoldPresegmentationModels = [fold0.ModelPath!, fold1.ModelPath!, fold1.ModelPath!],
            }))
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("*--fold 0 of 3*its card says fold 0 of 2*", "three folds deal the patients differently");
    }

    [Fact]
    public async Task Each_training_slice_is_presegmented_by_the_model_that_left_out_its_patient()
    {
        var fold0 = await RunAsync(Tiny(TrainingTarget.Presegmentation, "route0") with { Steps = 2, ValidateEvery = 2, HeldOutFold = 0 });
        var fold1 = await RunAsync(Tiny(TrainingTarget.Presegmentation, "route1") with { Steps = 2, ValidateEvery = 2, HeldOutFold = 1, Seed = 6 });
        var catalog = SharedGenerator.Value.Catalog;
        var folds = new TrainingFolds(catalog.Split.TrainingPatients, 2);
        var (inFold0, inFold1) = (folds.Patients(0)[0], folds.Patients(1)[0]);
        const int size = TrainingSliceGenerator.Size;
        var batch = new TrainingBatch(2, size, size);
        foreach (var (index, patient) in new[] { (0, inFold1), (1, inFold0) })
        {
            var sample = SharedGenerator.Value.Generate(catalog.Cases.First(c => c.Patient == patient), 7, MrContrast.T2);
            sample.Image.CopyTo(batch.Image(index));
            batch.Patients[index] = patient;
        }

        using var outOfFold = OutOfFoldPresegmentations.Load([fold0.ModelPath!, fold1.ModelPath!], catalog.Split.TrainingPatients);
        var routed = outOfFold.PredictProbabilities(batch);

        using var network0 = PresegmentationNetwork.Load(fold0.ModelPath!);
        using var network1 = PresegmentationNetwork.Load(fold1.ModelPath!);
        var perImage = 3 * size * size;
        routed.AsSpan(0, perImage).ToArray().Should().Equal(network1.PredictProbabilities(batch.Image(0), 1, size, size), "patient of fold 1 -> the model without fold 1");
        routed.AsSpan(perImage, perImage).ToArray().Should().Equal(network0.PredictProbabilities(batch.Image(1), 1, size, size));
        network0.PredictProbabilities(batch.Image(0), 1, size, size).Should().NotEqual(routed.AsSpan(0, perImage).ToArray(), "the two models differ");
    }

    [Fact]
    public async Task Fine_tuning_starts_from_the_given_model_and_keeps_its_configuration()
    {
        var start = await RunAsync(Tiny(TrainingTarget.Presegmentation, "start") with { Steps = 2, ValidateEvery = 2, Widths = [4, 8, 12] });

        var tuned = await RunAsync(Tiny(TrainingTarget.Presegmentation, "tuned") with { Steps = 2, ValidateEvery = 2, Widths = null, InitialModel = start.ModelPath, Seed = 9 });

        using var network = PresegmentationNetwork.Load(tuned.ModelPath!);
        network.Config.Widths.Should().Equal(4, 8, 12);
        ModelCard.Load(tuned.ModelPath!).Configuration["fineTunedFrom"]!.GetValue<string>().Should().Be(ModelCard.Load(start.ModelPath!).Version);
        Predict(tuned.ModelPath!).Should().NotEqual(Predict(start.ModelPath!), "two more steps changed the weights");
        (Tiny(TrainingTarget.Presegmentation, "x") with { InitialModel = start.ModelPath }).Validate()
            .Should().ContainSingle(e => e.Contains("--init-from"), "widths come from the start model");
    }

    [Fact]
    public void Bad_options_are_all_reported()
    {
        var errors = (Tiny(TrainingTarget.Diffusion, "bad") with { Steps = 0, CropSize = 100, BatchSize = 0 }).Validate();

        errors.Should().HaveCount(4);
        errors.Should().Contain(e => e.Contains("presegmentation model"));
        errors.Should().Contain(e => e.Contains("Crop size"));
        (Tiny(TrainingTarget.Diffusion, "fold") with { PresegmentationModel = null, HeldOutFold = 0 }).Validate()
            .Should().Contain(e => e.Contains("--fold"), "a held-out fold is for presegmentation runs");
        (Tiny(TrainingTarget.Presegmentation, "fold") with { HeldOutFold = 2 }).Validate().Should().ContainSingle(e => e.Contains("0..1 of 2"));
        (Tiny(TrainingTarget.Presegmentation, "fold") with { OutOfFoldPresegmentationModels = ["a.model", "b.model"] }).Validate()
            .Should().Contain(e => e.Contains("--fold-models")).And.Contain(e => e.Contains("not found: a.model"));
    }
}
