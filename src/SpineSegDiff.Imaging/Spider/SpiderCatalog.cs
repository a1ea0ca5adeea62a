using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SpineSegDiff.Imaging.Spider;

/// <summary>
/// The SPIDER material in the repository (data/spider: masks/*.mha, metadata/overview.csv and
/// metadata/radiological_gradings.csv): the cases, their real header values, the radiological disc gradings and
/// the patient-level split. Immutable after <see cref="Open"/>; safe to share between threads.
/// </summary>
public sealed class SpiderCatalog
{
    public const string EnvironmentVariable = "SPINESEG_SPIDER_DIR";

    private readonly Dictionary<string, SpiderSeriesMetadata> _metadata;
    private readonly Dictionary<(int Patient, int Disc), DiscGrading> _gradings;

    private SpiderCatalog(
        string root,
        IReadOnlyList<SpiderCase> cases,
        Dictionary<string, SpiderSeriesMetadata> metadata,
        Dictionary<(int, int), DiscGrading> gradings,
        DatasetSplit split,
        string dataSha256,
        IReadOnlyList<string> files)
    {
        Root = root;
        Cases = cases;
        _metadata = metadata;
        _gradings = gradings;
        Split = split;
        DataSha256 = dataSha256;
        Files = files;
    }

    /// <summary>The data/spider directory.</summary>
    public string Root { get; }

    /// <summary>All cases, ordered by patient then series kind.</summary>
    public IReadOnlyList<SpiderCase> Cases { get; }

    public DatasetSplit Split { get; }

    /// <summary>SHA-256 over every data file's relative path and content (see <see cref="Files"/>).</summary>
    public string DataSha256 { get; }

    /// <summary>The files <see cref="DataSha256"/> covers, relative to <see cref="Root"/>.</summary>
    public IReadOnlyList<string> Files { get; }

    public IEnumerable<SpiderCase> TrainingCases => Cases.Where(c => !Split.IsValidation(c.Patient));

    public IEnumerable<SpiderCase> ValidationCases => Cases.Where(c => Split.IsValidation(c.Patient));

    public bool IsValidation(SpiderCase spiderCase)
    {
        ArgumentNullException.ThrowIfNull(spiderCase);
        return Split.IsValidation(spiderCase.Patient);
    }

    public SpiderCase Case(string id) =>
        Cases.FirstOrDefault(c => c.Id == id) ?? throw new KeyNotFoundException($"No SPIDER case '{id}' in {Root}.");

    public SpiderSeriesMetadata? Metadata(SpiderCase spiderCase)
    {
        ArgumentNullException.ThrowIfNull(spiderCase);
        return Metadata(spiderCase.Id);
    }

    /// <summary>Header values of any SPIDER series in overview.csv ("104_t1"), including series without a mask here.</summary>
    public SpiderSeriesMetadata? Metadata(string seriesId) => _metadata.GetValueOrDefault(seriesId);

    /// <summary>
    /// Pfirrmann grade (1 healthy .. 5 collapsed) of a patient's disc, counted from the most inferior disc
    /// (1 = lowest). That is the gradings file's "IVD label" in both mask numbering conventions: 201 and 224 are
    /// each the lowest disc of their convention (checked against the masks' geometry).
    /// </summary>
    public int? PfirrmannGrade(int patient, int discFromBottom) => DiscGrading(patient, discFromBottom)?.Pfirrmann;

    /// <summary>
    /// All gradings of a patient's disc (rank from the bottom, as <see cref="PfirrmannGrade"/>); null when the
    /// gradings file does not list it.
    /// </summary>
    public DiscGrading? DiscGrading(int patient, int discFromBottom) => _gradings.GetValueOrDefault((patient, discFromBottom));

    /// <summary>A patient's graded discs, lowest first; empty when the patient is not graded.</summary>
    public IReadOnlyList<DiscGrading> DiscGradings(int patient) =>
        [.. _gradings.Values.Where(g => g.Patient == patient).OrderBy(g => g.DiscFromBottom)];

    public DatasetSplitRecord SplitRecord() => new(
        DatasetSplit.Method,
        Split.ValidationFraction,
        Split.TrainingPatients,
        Split.ValidationPatients,
        [.. TrainingCases.Select(c => c.Id)],
        [.. ValidationCases.Select(c => c.Id)],
        DataSha256,
        Files);

    /// <summary>
    /// Finds data/spider: the <see cref="EnvironmentVariable"/> when set, else the first ancestor of the
    /// application or working directory that has data/spider/masks.
    /// </summary>
    public static string FindDataDirectory()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Directory.Exists(Path.Combine(configured, "masks")) ? Path.GetFullPath(configured)
                : throw new DirectoryNotFoundException($"{EnvironmentVariable}={configured} has no masks/ directory.");
        }
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "data", "spider");
                if (Directory.Exists(Path.Combine(candidate, "masks")))
                {
                    return candidate;
                }
            }
        }
        throw new DirectoryNotFoundException($"data/spider/masks not found above {AppContext.BaseDirectory}; set {EnvironmentVariable}.");
    }

    public static SpiderCatalog Open(string? root = null, double validationFraction = DatasetSplit.DefaultValidationFraction)
    {
        root = Path.GetFullPath(root ?? FindDataDirectory());
        var masks = Path.Combine(root, "masks");
        var cases = Directory.EnumerateFiles(masks, "*.mha")
            .Select(SpiderCase.TryParse)
            .OfType<SpiderCase>()
            .OrderBy(c => c.Patient).ThenBy(c => c.Kind)
            .ToList();
        if (cases.Count == 0)
        {
            throw new FileNotFoundException($"No SPIDER masks (<patient>_<t1|t2|t2_SPACE>.mha) in {masks}.");
        }
        var overview = Path.Combine(root, "metadata", "overview.csv");
        var gradings = Path.Combine(root, "metadata", "radiological_gradings.csv");
        var metadata = File.Exists(overview) ? ReadOverview(overview) : [];
        var discGradings = File.Exists(gradings) ? ReadGradings(gradings) : [];
        var files = cases.Select(c => Path.GetRelativePath(root, c.MaskPath))
            .Concat(new[] { overview, gradings }.Where(File.Exists).Select(p => Path.GetRelativePath(root, p)))
            .Select(p => p.Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        var split = DatasetSplit.Create(cases.Select(c => c.Patient), validationFraction);
        return new SpiderCatalog(root, cases, metadata, discGradings, split, HashFiles(root, files), files);
    }

    private static string HashFiles(string root, IReadOnlyList<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file));
            hash.AppendData([0]);
            hash.AppendData(SHA256.HashData(File.ReadAllBytes(Path.Combine(root, file))));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static Dictionary<string, SpiderSeriesMetadata> ReadOverview(string path)
    {
        var table = CsvTable.Read(path);
        var result = new Dictionary<string, SpiderSeriesMetadata>(StringComparer.Ordinal);
        var id = table.Column("new_file_name");
        foreach (var row in table.Rows)
        {
            string? S(string column) => NullIfEmpty(CsvTable.Field(row, table.Column(column)));
            double? D(string column) => double.TryParse(S(column), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;
            var key = CsvTable.Field(row, id);
            result[key] = new SpiderSeriesMetadata(
                key,
                S("SeriesDescription"),
                S("Manufacturer"),
                S("ManufacturerModelName"),
                D("MagneticFieldStrength"),
                D("EchoTime"),
                D("RepetitionTime"),
                D("FlipAngle"),
                D("EchoTrainLength"),
                D("ImagingFrequency"),
                D("PixelBandwidth"),
                D("SliceThickness"),
                D("SpacingBetweenSlices"),
                S("MRAcquisitionType"),
                S("ScanningSequence"),
                S("SequenceName"),
                S("BodyPartExamined"),
                S("sex"),
                S("InPlanePhaseEncodingDirection"),
                S("SoftwareVersions"));
        }
        return result;
    }

    /// <summary>
    /// Rows whose patient, disc or Pfirrmann grade is not a number are skipped (as the grade-only reader did); in a
    /// row that is kept, every other column must be a number too, since a silently defaulted finding would be
    /// wrong data.
    /// </summary>
    private static Dictionary<(int, int), DiscGrading> ReadGradings(string path)
    {
        var table = CsvTable.Read(path);
        var patient = table.Column("Patient");
        var disc = table.Column("IVD label");
        var grade = table.Column("Pfirrman grade");
        var modic = table.Column("Modic");
        var upper = table.Column("UP endplate");
        var lower = table.Column("LOW endplate");
        var spondylolisthesis = table.Column("Spondylolisthesis");
        var herniation = table.Column("Disc herniation");
        var narrowing = table.Column("Disc narrowing");
        var bulging = table.Column("Disc bulging");
        var result = new Dictionary<(int, int), DiscGrading>();
        for (var r = 0; r < table.Rows.Count; r++)
        {
            var row = table.Rows[r];
            if (!TryInt(row, patient, out var p) || !TryInt(row, disc, out var d) || !TryInt(row, grade, out var g))
            {
                continue;
            }
            int Required(int column) => TryInt(row, column, out var value) ? value
                : throw new InvalidDataException($"{path} row {r + 2}: '{table.Header[column]}' is '{CsvTable.Field(row, column)}', not a number.");
            result[(p, d)] = new DiscGrading(
                p,
                d,
                g,
                Narrowing: Required(narrowing) != 0,
                Spondylolisthesis: Required(spondylolisthesis) != 0,
                Herniation: Required(herniation) != 0,
                Bulging: Required(bulging) != 0,
                Modic: Required(modic),
                UpperEndplate: Required(upper) != 0,
                LowerEndplate: Required(lower) != 0);
        }
        return result;
    }

    private static bool TryInt(string[] row, int column, out int value) =>
        int.TryParse(CsvTable.Field(row, column), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    private static string? NullIfEmpty(string value)
    {
        var trimmed = value.Trim();
        return trimmed.Length == 0 || trimmed == "nan" ? null : trimmed;
    }
}
