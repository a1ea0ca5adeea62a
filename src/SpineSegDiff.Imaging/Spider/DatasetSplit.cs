using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SpineSegDiff.Imaging.Spider;

/// <summary>
/// What a model card records about the data a model saw: which patients trained it, which validated it, and a hash
/// of the exact files, so a reader can tell whether two models were trained on the same data.
/// </summary>
public sealed record DatasetSplitRecord(
    string Method,
    double ValidationFraction,
    IReadOnlyList<int> TrainingPatients,
    IReadOnlyList<int> ValidationPatients,
    IReadOnlyList<string> TrainingCases,
    IReadOnlyList<string> ValidationCases,
    string DataSha256,
    IReadOnlyList<string> Files);

/// <summary>
/// Patient-level train/validation split. A patient's position is the SHA-256 of a fixed salt and the patient
/// number, so the split does not depend on file order, machine or .NET version, and adding a patient never moves
/// another one across (all series of a patient, t1 and t2, fall on the same side).
/// </summary>
public sealed class DatasetSplit
{
    public const string Method = "sha256(\"spineseg-split-v1:\" + patient), lowest round(fraction * patients) -> validation";
    public const double DefaultValidationFraction = 0.2;

    private readonly HashSet<int> _validation;

    private DatasetSplit(IReadOnlyList<int> training, IReadOnlyList<int> validation, double fraction)
    {
        TrainingPatients = training;
        ValidationPatients = validation;
        ValidationFraction = fraction;
        _validation = [.. validation];
    }

    public IReadOnlyList<int> TrainingPatients { get; }

    public IReadOnlyList<int> ValidationPatients { get; }

    public double ValidationFraction { get; }

    public bool IsValidation(int patient) => _validation.Contains(patient);

    public static DatasetSplit Create(IEnumerable<int> patients, double validationFraction = DefaultValidationFraction)
    {
        ArgumentNullException.ThrowIfNull(patients);
        ArgumentOutOfRangeException.ThrowIfNegative(validationFraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(validationFraction, 1.0);
        var distinct = patients.Distinct().ToList();
        var ranked = distinct.OrderBy(Rank, StringComparer.Ordinal).ThenBy(p => p).ToList();
        var validationCount = (int)Math.Round(validationFraction * distinct.Count, MidpointRounding.AwayFromZero);
        if (validationFraction > 0 && distinct.Count > 1)
        {
            validationCount = Math.Clamp(validationCount, 1, distinct.Count - 1);
        }
        var validation = ranked.Take(validationCount).Order().ToList();
        var training = ranked.Skip(validationCount).Order().ToList();
        return new DatasetSplit(training, validation, validationFraction);
    }

    private static string Rank(int patient) => SaltedRank("spineseg-split-v1:", patient);

    /// <summary>
    /// A patient's place in a salted ordering (hex SHA-256 of salt + number): independent of file order, machine and
    /// .NET version. A different salt gives an unrelated ordering (the split and the folds use different ones).
    /// </summary>
    internal static string SaltedRank(string salt, int patient) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(salt + patient.ToString(CultureInfo.InvariantCulture))));
}
