namespace SpineSegDiff.Imaging.Spider;

/// <summary>
/// The SPIDER radiologists' grading of one intervertebral disc (one row of metadata/radiological_gradings.csv).
/// </summary>
/// <param name="Patient">SPIDER patient number.</param>
/// <param name="DiscFromBottom">The file's "IVD label": rank of the disc counted from the most inferior (1 = lowest).</param>
/// <param name="Pfirrmann">Pfirrmann degeneration grade, 1 (healthy) .. 5 (collapsed); the file's "Pfirrman grade".</param>
/// <param name="Narrowing">Disc narrowing ("Disc narrowing").</param>
/// <param name="Spondylolisthesis">Spondylolisthesis at this disc's level ("Spondylolisthesis").</param>
/// <param name="Herniation">Disc herniation ("Disc herniation").</param>
/// <param name="Bulging">Disc bulging ("Disc bulging").</param>
/// <param name="Modic">Modic endplate change type, 0 (none) .. 3 ("Modic").</param>
/// <param name="UpperEndplate">Upper endplate abnormality ("UP endplate").</param>
/// <param name="LowerEndplate">Lower endplate abnormality ("LOW endplate").</param>
public sealed record DiscGrading(
    int Patient,
    int DiscFromBottom,
    int Pfirrmann,
    bool Narrowing,
    bool Spondylolisthesis,
    bool Herniation,
    bool Bulging,
    int Modic,
    bool UpperEndplate,
    bool LowerEndplate);
