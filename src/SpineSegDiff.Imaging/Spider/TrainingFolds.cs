namespace SpineSegDiff.Imaging.Spider;

/// <summary>
/// The training patients dealt into folds for out-of-fold presegmentations: a presegmentation network trained
/// without fold k is applied to fold k's patients, so the refiner trains on the mistakes a presegmentation makes on
/// anatomy it has not seen (as at inference), not on its outputs for the patients it trained on.
/// Like <see cref="DatasetSplit"/>, a patient's fold depends only on a salted SHA-256 of its number and the set of
/// training patients, never on file order or machine.
/// </summary>
public sealed class TrainingFolds
{
    public const string Method = "patients ranked by sha256(\"spineseg-fold-v1:\" + patient); rank modulo the fold count";

    private readonly Dictionary<int, int> _foldOf;

    public TrainingFolds(IEnumerable<int> trainingPatients, int count)
    {
        ArgumentNullException.ThrowIfNull(trainingPatients);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        var ranked = trainingPatients.Distinct().OrderBy(Rank, StringComparer.Ordinal).ThenBy(p => p).ToList();
        if (ranked.Count < count)
        {
            throw new ArgumentException($"{count} folds need at least {count} training patients (got {ranked.Count}).", nameof(trainingPatients));
        }
        Count = count;
        _foldOf = ranked.Select((patient, rank) => (patient, rank)).ToDictionary(p => p.patient, p => p.rank % count);
    }

    public int Count { get; }

    /// <summary>The fold of a training patient; a patient outside the training set has none.</summary>
    public int FoldOf(int patient) => _foldOf.TryGetValue(patient, out var fold) ? fold
        : throw new ArgumentOutOfRangeException(nameof(patient), patient, "Not a training patient of this split.");

    /// <summary>The patients of one fold, ascending.</summary>
    public IReadOnlyList<int> Patients(int fold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fold);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fold, Count);
        return [.. _foldOf.Where(p => p.Value == fold).Select(p => p.Key).Order()];
    }

    private static string Rank(int patient) => DatasetSplit.SaltedRank("spineseg-fold-v1:", patient);
}
