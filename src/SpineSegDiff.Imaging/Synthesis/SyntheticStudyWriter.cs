using System.Globalization;
using SpineSegDiff.Dicom;
using SpineSegDiff.Dicom.IO;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.MetaImage;
using SpineSegDiff.Imaging.Preprocessing;
using SpineSegDiff.Imaging.Spider;

namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>What a phantom study consists of, for reports and tests.</summary>
public sealed record SyntheticStudy(
    string CaseId,
    MrContrast Contrast,
    int Seed,
    string SeriesDirectory,
    IReadOnlyList<string> Files,
    string LabelPath,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SeriesDescription,
    string PatientId,
    int Rows,
    int Columns,
    int Slices,
    double RowSpacing,
    double ColumnSpacing,
    double SliceSpacing);

/// <summary>
/// Writes a synthetic sagittal MR study from a real SPIDER label map: one MR Image Storage file per sagittal slice
/// (16-bit MONOCHROME2, full patient geometry, header values of the real series from overview.csv, an obviously
/// synthetic patient) and the ground truth as a MetaImage on exactly the series' voxel grid (axis 0 = column,
/// axis 1 = row, axis 2 = instance order; project labels 0..3). Same inputs give identical bytes.
/// </summary>
public static class SyntheticStudyWriter
{
    public const string SeriesFolder = "MR";
    public const string LabelFileName = "ground_truth_labels.mha";

    private const int StoredMaximum = 4095;
    private static readonly DateOnly StudyDate = new(2024, 1, 15);
    private static readonly TimeOnly StudyTime = new(9, 30, 0);

    /// <summary>
    /// Preferred default: a validation patient (never training anatomy), a 2D T2 series with an oblique ASL
    /// TransformMatrix (exercises orientation handling end to end) and a small 512x512x17 grid.
    /// </summary>
    public const string PreferredDefaultCase = "166_t2";

    /// <summary>The default phantom: <see cref="PreferredDefaultCase"/> while it is a validation case, else a validation T2 series.</summary>
    public static SpiderCase DefaultCase(SpiderCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var validation = catalog.ValidationCases.ToList();
        return validation.FirstOrDefault(c => c.Id == PreferredDefaultCase)
            ?? validation.FirstOrDefault(c => c.Kind == SpiderSeriesKind.T2)
            ?? validation.FirstOrDefault()
            ?? catalog.Cases[0];
    }

    /// <summary>The contrast the mask's own sequence had.</summary>
    public static MrContrast DefaultContrast(SpiderCase spiderCase)
    {
        ArgumentNullException.ThrowIfNull(spiderCase);
        return spiderCase.Kind == SpiderSeriesKind.T1 ? MrContrast.T1 : MrContrast.T2;
    }

    /// <summary>Resolves "104" (the patient's T2 series, else its first) or "104_t1" (that case).</summary>
    public static SpiderCase ResolveCase(SpiderCatalog catalog, string patientOrCase)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(patientOrCase);
        var exact = catalog.Cases.FirstOrDefault(c => c.Id.Equals(patientOrCase, StringComparison.OrdinalIgnoreCase));
        if (exact is not null)
        {
            return exact;
        }
        if (int.TryParse(patientOrCase, NumberStyles.None, CultureInfo.InvariantCulture, out var patient))
        {
            var cases = catalog.Cases.Where(c => c.Patient == patient).ToList();
            if (cases.Count > 0)
            {
                return cases.FirstOrDefault(c => c.Kind == SpiderSeriesKind.T2) ?? cases[0];
            }
        }
        throw new KeyNotFoundException($"No SPIDER case '{patientOrCase}'. Known: {string.Join(", ", catalog.Cases.Select(c => c.Id))}.");
    }

    public static SyntheticStudy Write(SpiderCatalog catalog, SpiderCase spiderCase, MrContrast contrast, int seed, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(spiderCase);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        var anatomy = SpineAnatomy.Load(spiderCase, catalog);
        var g = anatomy.RasGeometry;
        int rows = anatomy.Rows, cols = anatomy.Columns, slices = anatomy.SliceCount;
        var plane = rows * cols;

        var random = new Random(seed);
        var settings = RenderSettings.Sample(contrast, random);
        var intensities = new float[plane * slices];
        var labels = new byte[plane * slices];
        var native = AcquisitionGeometry.Native(rows, cols, anatomy.RowSpacing, anatomy.ColumnSpacing);
        for (var i = 0; i < slices; i++)
        {
            SyntheticMrRenderer.Render(anatomy, i, native, settings, random, intensities.AsSpan(i * plane, plane));
            var tissue = anatomy.Slice(i);
            var target = labels.AsSpan(i * plane, plane);
            for (var n = 0; n < plane; n++)
            {
                target[n] = SpineAnatomy.ClassOf(tissue[n]);
            }
        }

        // 12-bit stored values with the 99th percentile near 2500, like a typical TSE magnitude image.
        const double StoredP99 = 2500.0;
        var reference = IntensityNormalizer.Percentile(intensities, 0.99);
        var scale = reference > 0 ? (float)(StoredP99 / reference) : 1f;
        var stored = new ushort[intensities.Length];
        for (var n = 0; n < stored.Length; n++)
        {
            stored[n] = (ushort)Math.Clamp(MathF.Round(intensities[n] * scale), 0, StoredMaximum);
        }
        var windowCenter = Math.Round(StoredP99 * 0.45);
        var windowWidth = Math.Round(StoredP99 * 0.9);

        // Series frame: rows toward inferior, columns toward posterior, instances stacked toward the patient's right.
        var rowDirection = -g.Direction.Axis1;
        var columnDirection = -g.Direction.Axis2;
        var normal = g.Direction.Axis0;
        var metadata = SeriesMetadata(catalog, spiderCase, contrast);
        var description = metadata?.SeriesDescription ?? DefaultDescription(contrast);
        var name = FormattableString.Invariant($"{spiderCase.Id}/{contrast}/{seed}");
        var studyUid = DeterministicUid.From(name + "/study");
        var seriesUid = DeterministicUid.From(name + "/series");
        var frameUid = DeterministicUid.From(name + "/frame");
        var patientId = FormattableString.Invariant($"SYN-SPIDER-{spiderCase.Patient}");
        var seriesDirectory = Path.Combine(outputDirectory, SeriesFolder);
        Directory.CreateDirectory(seriesDirectory);
        var files = new List<string>(slices);
        for (var i = 0; i < slices; i++)
        {
            var position = g.IndexToPatient(i, cols - 1, rows - 1);
            var ds = new DicomDataset();
            ds.SetString(DicomTags.SpecificCharacterSet, "ISO_IR 100");
            ds.SetString(DicomTags.ImageType, "DERIVED", "PRIMARY", "OTHER");
            ds.SetString(DicomTags.SOPClassUID, DicomUids.MRImageStorage);
            ds.SetString(DicomTags.SOPInstanceUID, DeterministicUid.From(name + "/instance/" + i.ToString(CultureInfo.InvariantCulture)));
            ds.SetDate(DicomTags.StudyDate, StudyDate);
            ds.SetDate(DicomTags.SeriesDate, StudyDate);
            ds.SetDate(DicomTags.ContentDate, StudyDate);
            ds.SetTime(DicomTags.StudyTime, StudyTime);
            ds.SetTime(DicomTags.SeriesTime, StudyTime);
            ds.SetTime(DicomTags.ContentTime, StudyTime);
            ds.SetString(DicomTags.AccessionNumber);
            ds.SetString(DicomTags.Modality, "MR");
            ds.SetString(DicomTags.Manufacturer, metadata?.Manufacturer ?? "SpineSegDiff");
            ds.SetString(DicomTags.ReferringPhysicianName);
            ds.SetString(DicomTags.StudyDescription, "LUMBAR SPINE (SYNTHETIC)");
            ds.SetString(DicomTags.SeriesDescription, description);
            if (metadata?.ManufacturerModelName is { } model)
            {
                ds.SetString(DicomTags.ManufacturerModelName, model);
            }
            ds.SetString(DicomTags.PatientName, FormattableString.Invariant($"SYNTHETIC^PHANTOM^SPIDER {spiderCase.Patient}"));
            ds.SetString(DicomTags.PatientID, patientId);
            ds.SetString(DicomTags.PatientBirthDate);
            ds.SetString(DicomTags.PatientSex, metadata?.PatientSex is "M" or "F" ? metadata.PatientSex : "O");
            ds.SetString(DicomTags.PatientIdentityRemoved, "YES");
            ds.SetString(DicomTags.DeidentificationMethod, "Synthetic image rendered from a SPIDER label map");
            ds.SetString(DicomTags.BodyPartExamined, "LSPINE");
            ds.SetString(DicomTags.ScanningSequence, ScanningSequence(metadata?.ScanningSequence));
            ds.SetString(DicomTags.SequenceVariant, "SK");
            ds.SetString(DicomTags.ScanOptions);
            ds.SetString(DicomTags.MRAcquisitionType, metadata?.MrAcquisitionType is "2D" or "3D" ? metadata.MrAcquisitionType : "2D");
            if (Sanitise(metadata?.SequenceName) is { } sequenceName)
            {
                ds.SetString(DicomTags.SequenceName, sequenceName);
            }
            ds.SetDecimalString(DicomTags.SliceThickness, Math.Round(Math.Min(metadata?.SliceThickness ?? g.Spacing.X, g.Spacing.X), 4));
            ds.SetDecimalString(DicomTags.RepetitionTime, Math.Round(metadata?.RepetitionTime ?? (contrast == MrContrast.T1 ? 550 : 3500), 3));
            ds.SetDecimalString(DicomTags.EchoTime, Math.Round(metadata?.EchoTime ?? (contrast == MrContrast.T1 ? 10 : 100), 3));
            ds.SetIntegerString(DicomTags.EchoTrainLength, (int)Math.Round(metadata?.EchoTrainLength ?? (contrast == MrContrast.T1 ? 4 : 20)));
            ds.SetDecimalString(DicomTags.ImagingFrequency, Math.Round(metadata?.ImagingFrequency ?? 63.87, 6));
            ds.SetString(DicomTags.ImagedNucleus, "1H");
            ds.SetDecimalString(DicomTags.MagneticFieldStrength, metadata?.MagneticFieldStrength ?? 1.5);
            ds.SetDecimalString(DicomTags.SpacingBetweenSlices, Math.Round(g.Spacing.X, 6));
            if (metadata?.FlipAngle is { } flip)
            {
                ds.SetDecimalString(DicomTags.FlipAngle, flip);
            }
            if (metadata?.PixelBandwidth is { } bandwidth)
            {
                ds.SetDecimalString(DicomTags.PixelBandwidth, bandwidth);
            }
            ds.SetString(DicomTags.SoftwareVersions, "SpineSegDiff phantom 1");
            ds.SetString(DicomTags.InPlanePhaseEncodingDirection, metadata?.InPlanePhaseEncodingDirection is "ROW" or "COL" ? metadata.InPlanePhaseEncodingDirection : "COL");
            ds.SetString(DicomTags.PatientPosition, "HFS");
            ds.SetString(DicomTags.StudyInstanceUID, studyUid);
            ds.SetString(DicomTags.SeriesInstanceUID, seriesUid);
            ds.SetString(DicomTags.StudyID, "1");
            ds.SetIntegerString(DicomTags.SeriesNumber, contrast == MrContrast.T1 ? 2 : 3);
            ds.SetIntegerString(DicomTags.InstanceNumber, i + 1);
            ds.SetDecimalString(DicomTags.ImagePositionPatient, position.X, position.Y, position.Z);
            ds.SetDecimalString(DicomTags.ImageOrientationPatient, rowDirection.X, rowDirection.Y, rowDirection.Z, columnDirection.X, columnDirection.Y, columnDirection.Z);
            ds.SetString(DicomTags.FrameOfReferenceUID, frameUid);
            ds.SetString(DicomTags.PositionReferenceIndicator);
            ds.SetDecimalString(DicomTags.SliceLocation, Math.Round(position.Dot(normal), 6));
            ds.SetString(DicomTags.ImageComments, FormattableString.Invariant($"SYNTHETIC {contrast} image rendered from SPIDER mask {spiderCase.Id} (CC BY 4.0), seed {seed}. Not a patient. Not for clinical use."));
            ds.SetUInt16(DicomTags.SamplesPerPixel, 1);
            ds.SetString(DicomTags.PhotometricInterpretation, "MONOCHROME2");
            ds.SetUInt16(DicomTags.Rows, (ushort)rows);
            ds.SetUInt16(DicomTags.Columns, (ushort)cols);
            ds.SetDecimalString(DicomTags.PixelSpacing, g.Spacing.Z, g.Spacing.Y);
            ds.SetUInt16(DicomTags.BitsAllocated, 16);
            ds.SetUInt16(DicomTags.BitsStored, 12);
            ds.SetUInt16(DicomTags.HighBit, 11);
            ds.SetUInt16(DicomTags.PixelRepresentation, 0);
            ds.SetDecimalString(DicomTags.WindowCenter, windowCenter);
            ds.SetDecimalString(DicomTags.WindowWidth, windowWidth);
            ds.SetValues(DicomTags.PixelData, DicomVR.OW, stored.AsSpan(i * plane, plane).ToArray());
            var path = Path.Combine(seriesDirectory, FormattableString.Invariant($"IM{i + 1:D5}.dcm"));
            DicomFile.Create(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
            files.Add(path);
        }

        var labelGeometry = new VolumeGeometry(
            cols, rows, slices,
            new Vec3(g.Spacing.Y, g.Spacing.Z, g.Spacing.X),
            g.IndexToPatient(0, cols - 1, rows - 1),
            new Direction3(rowDirection, columnDirection, normal));
        var labelPath = Path.Combine(outputDirectory, LabelFileName);
        MetaImageWriter.Write(labelPath, new Volume<byte>(labelGeometry, labels));
        return new SyntheticStudy(spiderCase.Id, contrast, seed, seriesDirectory, files, labelPath, studyUid, seriesUid, description, patientId,
            rows, cols, slices, g.Spacing.Z, g.Spacing.Y, g.Spacing.X);
    }

    /// <summary>
    /// Header values of the real series that matches the requested contrast: the patient's T1 row for T1, its T2 row
    /// for T2 (whatever sequence the mask was drawn on), the mask's own row for random contrast.
    /// </summary>
    private static SpiderSeriesMetadata? SeriesMetadata(SpiderCatalog catalog, SpiderCase spiderCase, MrContrast contrast)
    {
        var own = catalog.Metadata(spiderCase);
        var wanted = contrast switch
        {
            MrContrast.T1 => FormattableString.Invariant($"{spiderCase.Patient}_t1"),
            MrContrast.T2 => spiderCase.Kind == SpiderSeriesKind.T1 ? FormattableString.Invariant($"{spiderCase.Patient}_t2") : spiderCase.Id,
            _ => spiderCase.Id,
        };
        return catalog.Metadata(wanted) ?? own;
    }

    private static string DefaultDescription(MrContrast contrast) => contrast switch
    {
        MrContrast.T1 => "SAG T1 TSE",
        MrContrast.T2 => "SAG T2 TSE",
        _ => "SAG SYNTHETIC",
    };

    /// <summary>"SE", "['SE', 'IR']" -> the defined terms present (SE, IR, GR, EP, RM); SE when none.</summary>
    private static string[] ScanningSequence(string? value)
    {
        string[] terms = ["SE", "IR", "GR", "EP", "RM"];
        var found = (value ?? string.Empty)
            .Split([',', '\\', '[', ']', '\'', ' '], StringSplitOptions.RemoveEmptyEntries)
            .Where(terms.Contains)
            .Distinct()
            .ToArray();
        return found.Length > 0 ? found : ["SE"];
    }

    /// <summary>CSV values like "['SE', 'IR']" or "*tse2d1_5" become valid CS/SH values (or null).</summary>
    private static string? Sanitise(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var cleaned = new string(value.Where(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or ' ' or '*' or '.').ToArray()).Trim();
        return cleaned.Length == 0 ? null : cleaned.Length > 16 ? cleaned[..16] : cleaned;
    }
}
