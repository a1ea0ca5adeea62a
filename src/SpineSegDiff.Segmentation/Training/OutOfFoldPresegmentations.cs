using SpineSegDiff.Imaging.Spider;
using SpineSegDiff.Segmentation.Networks;

namespace SpineSegDiff.Segmentation.Training;

/// <summary>
/// The presegmentation networks a refiner trains on, one per fold of the training patients, network k trained
/// without fold k: each training slice is presegmented by the network that never saw its patient. Refuses models
/// whose cards do not say which fold they left out, or left out other patients than this split's fold: a network
/// that trained on the patient would hand the refiner in-sample mistakes instead of the ones it meets in service.
/// </summary>
internal sealed class OutOfFoldPresegmentations : IDisposable
{
    public const string HeldOutFoldKey = "heldOutFold";
    public const string FoldCountKey = "foldCount";
    public const string HeldOutPatientsKey = "heldOutPatients";

    private readonly PresegmentationNetwork[] _networks;
    private readonly TrainingFolds _folds;

    private OutOfFoldPresegmentations(PresegmentationNetwork[] networks, TrainingFolds folds, IReadOnlyList<string> versions)
    {
        _networks = networks;
        _folds = folds;
        Versions = versions;
    }

    public IReadOnlyList<string> Versions { get; }

    public static OutOfFoldPresegmentations Load(IReadOnlyList<string> models, IReadOnlyList<int> trainingPatients)
    {
        var folds = new TrainingFolds(trainingPatients, models.Count);
        var versions = new List<string>();
        for (var fold = 0; fold < models.Count; fold++)
        {
            var card = File.Exists(ModelCard.PathFor(models[fold])) ? ModelCard.Load(models[fold])
                : throw new InvalidOperationException($"{models[fold]} has no model card, so which patients it trained on is unknown.");
            var heldOut = card.Configuration[HeldOutFoldKey]?.GetValue<int>();
            var count = card.Configuration[FoldCountKey]?.GetValue<int>();
            var patients = card.Configuration[HeldOutPatientsKey]?.AsArray().Select(p => p!.GetValue<int>()).ToArray();
            if (heldOut != fold || count != models.Count || patients is null || !patients.SequenceEqual(folds.Patients(fold)))
            {
                throw new InvalidOperationException(
                    $"Out-of-fold model {fold + 1} ({models[fold]}) must be trained with --fold {fold} of {models.Count} on this data split; " +
                    $"its card says fold {heldOut?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} of {count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}" +
                    (patients is null ? "." : $", holding out patients {string.Join(", ", patients)}."));
            }
            versions.Add(card.Version);
        }
        var networks = new List<PresegmentationNetwork>();
        try
        {
            foreach (var model in models)
            {
                networks.Add(PresegmentationNetwork.Load(model));
            }
        }
        catch
        {
            networks.ForEach(n => n.Dispose());
            throw;
        }
        return new OutOfFoldPresegmentations([.. networks], folds, versions);
    }

    /// <summary>Presegmentation probabilities (B×3×H×W) of each image by the network that did not see its patient.</summary>
    public float[] PredictProbabilities(TrainingBatch batch)
    {
        var perImage = 3 * batch.Pixels;
        var probabilities = new float[batch.BatchSize * perImage];
        for (var b = 0; b < batch.BatchSize; b++)
        {
            _networks[_folds.FoldOf(batch.Patients[b])]
                .PredictProbabilities(batch.Image(b), 1, batch.Height, batch.Width)
                .CopyTo(probabilities.AsSpan(b * perImage, perImage));
        }
        return probabilities;
    }

    public void Dispose()
    {
        foreach (var network in _networks)
        {
            network.Dispose();
        }
    }
}
