using System.Text;
using SpineSegDiff.Dicom;
using SpineSegDiff.Imaging.Geometry;
using SpineSegDiff.Imaging.Rendering;
using SpineSegDiff.Results.Segmentation;

namespace SpineSegDiff.Results.SecondaryCapture;

/// <summary>One written Secondary Capture: the dataset, the RGB picture in it, and the source slice it shows.</summary>
public sealed record SecondaryCaptureImage(DicomDataset Dataset, RgbImage Image, int SourceSliceIndex, string SourceSopInstanceUid)
{
    public string SopInstanceUid => Dataset.GetString(DicomTags.SOPInstanceUID)!;

    public string SeriesInstanceUid => Dataset.GetString(DicomTags.SeriesInstanceUID)!;
}

/// <summary>Descriptive attributes and rendering choices of the Secondary Capture series.</summary>
public sealed record SecondaryCaptureOptions
{
    public ResultEquipment Equipment { get; init; } = new();

    public string HeatmapSeriesDescription { get; init; } = "AI uncertainty heatmap - not for diagnosis";

    public int HeatmapSeriesNumber { get; init; } = 903;

    public string OverlaySeriesDescription { get; init; } = "AI segmentation overlay - not for diagnosis";

    public int OverlaySeriesNumber { get; init; } = 904;

    /// <summary>Uncertainty at or below this is not coloured (see <see cref="OverlayRenderer.UncertaintyDisplayFloor"/>).</summary>
    public float HeatmapDisplayFloor { get; init; } = OverlayRenderer.UncertaintyDisplayFloor;

    public double HeatmapOpacity { get; init; } = OverlayRenderer.DefaultHeatAlpha;

    public double LabelOpacity { get; init; } = OverlayRenderer.DefaultLabelAlpha;

    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// Writes Secondary Capture Image Storage objects (PS3.3 A.8.1, 1.2.840.10008.5.1.4.1.1.7): 8-bit RGB pictures of
/// source slices with our results burned in, for viewers that cannot show a SEG. One instance per covered slice, all
/// in one new series of the source study. The pictures carry the words "not for diagnosis" in the pixels, because a
/// Secondary Capture travels to places (printouts, exports, teaching files) where no DICOM attribute is read.
/// </summary>
public sealed class SecondaryCaptureWriter
{
    public const string HeatmapCaption = "AI uncertainty - not for diagnosis";
    public const string OverlayCaption = "AI segmentation - not for diagnosis";

    // The caption's font scale and margin: the same as OverlayRenderer's legend at scale 1, so both SCs look alike.
    private const int CaptionTextScale = 2;
    private const int CaptionPadding = 2 * CaptionTextScale;

    private readonly SecondaryCaptureOptions _options;

    public SecondaryCaptureWriter(SecondaryCaptureOptions? options = null)
    {
        _options = options ?? new SecondaryCaptureOptions();
    }

    /// <summary>
    /// The MR slice with <paramref name="uncertainty"/> (values in [0, 1], on the source grid as
    /// <see cref="SegmentationWriter.WriteUncertainty"/> takes it) blended in viridis above the display floor, a
    /// colour bar 0..1 at the right, and <see cref="HeatmapCaption"/> burned in below.
    /// </summary>
    public IReadOnlyList<SecondaryCaptureImage> WriteUncertaintyHeatmap(
        IReadOnlyList<DicomDataset> sourceInstances,
        Volume<float> uncertainty,
        SourceSliceSelection slices)
    {
        ArgumentNullException.ThrowIfNull(uncertainty);
        var source = SourceSeriesContext.Prepare(sourceInstances, uncertainty.Geometry, nameof(uncertainty), slices);
        return Write(source, _options.HeatmapSeriesDescription, _options.HeatmapSeriesNumber,
            "MR image with the per-pixel uncertainty of an automatic segmentation in viridis (0..1, shown above "
            + FormattableString.Invariant($"{_options.HeatmapDisplayFloor:0.##}), colour bar and caption burned in"),
            (slice, grey) =>
            {
                var heat = uncertainty.Voxels.AsSpan(slice * source.PixelsPerSlice, source.PixelsPerSlice);
                DerivedSeries.CheckUnitInterval(heat, nameof(uncertainty));
                return OverlayRenderer.HeatmapOverlay(grey, heat, _options.HeatmapOpacity, HeatmapCaption, floor: _options.HeatmapDisplayFloor);
            });
    }

    /// <summary>
    /// The MR slice with the label map (1 canal, 2 vertebra, 3 disc) tinted and outlined in the class colours, and
    /// <see cref="OverlayCaption"/> burned in below.
    /// </summary>
    public IReadOnlyList<SecondaryCaptureImage> WriteSegmentationOverlay(
        IReadOnlyList<DicomDataset> sourceInstances,
        Volume<byte> labels,
        SourceSliceSelection slices)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var source = SourceSeriesContext.Prepare(sourceInstances, labels.Geometry, nameof(labels), slices);
        return Write(source, _options.OverlaySeriesDescription, _options.OverlaySeriesNumber,
            "MR image with an automatic segmentation (spinal canal blue, vertebrae green, discs red) and caption burned in",
            (slice, grey) =>
            {
                var overlay = OverlayRenderer.LabelOverlay(grey, labels.Voxels.AsSpan(slice * source.PixelsPerSlice, source.PixelsPerSlice), _options.LabelOpacity);
                return WithCaption(overlay, OverlayCaption);
            });
    }

    /// <summary>Saves a Secondary Capture as a Part 10 file in Explicit VR Little Endian.</summary>
    public static void Save(DicomDataset secondaryCapture, string path) => DerivedSeries.Save(secondaryCapture, path);

    /// <summary>
    /// <paramref name="image"/> on a canvas with a black strip below holding <paramref name="caption"/> in white,
    /// widened when the caption is longer than the image (the words must not be cut).
    /// </summary>
    internal static RgbImage WithCaption(RgbImage image, string caption)
    {
        var textHeight = BitmapFont.MeasureHeight(CaptionTextScale);
        var width = Math.Max(image.Width, BitmapFont.MeasureWidth(caption, CaptionTextScale) + 2 * CaptionPadding);
        var canvas = new RgbImage(width, image.Height + textHeight + 2 * CaptionPadding);
        canvas.Draw(image, 0, 0);
        BitmapFont.Draw(canvas, caption, CaptionPadding, image.Height + CaptionPadding, Rgb.White, CaptionTextScale);
        return canvas;
    }

    private IReadOnlyList<SecondaryCaptureImage> Write(
        SourceSeriesContext source,
        string seriesDescription,
        int seriesNumber,
        string derivationDescription,
        Func<int, RgbImage, RgbImage> render)
    {
        var now = _options.Clock.GetLocalNow().DateTime;
        var seriesUid = DicomUids.Generate();
        var written = new List<SecondaryCaptureImage>(source.Selected.Count);
        for (var i = 0; i < source.Selected.Count; i++)
        {
            var slice = source.Selected[i];
            var instance = source.Instance(slice);
            var grey = OverlayRenderer.Greyscale(
                source.Series.Volume.Voxels.AsSpan(slice * source.PixelsPerSlice, source.PixelsPerSlice), source.Columns, source.Rows);
            var picture = render(slice, grey);
            var ds = Dataset(instance, picture, seriesDescription, seriesNumber, i + 1, derivationDescription, now, seriesUid);
            written.Add(new SecondaryCaptureImage(ds, picture, slice, source.Series.Slices[slice].SopInstanceUid));
        }
        return written;
    }

    private DicomDataset Dataset(
        DicomDataset source,
        RgbImage picture,
        string seriesDescription,
        int seriesNumber,
        int instanceNumber,
        string derivationDescription,
        DateTime now,
        string seriesUid)
    {
        var equipment = _options.Equipment;
        // "OT": the SC IOD has no modality of its own, and "MR" would make it look like an acquisition.
        var ds = DerivedSeries.Start(source, withFrameOfReference: false, DicomUids.SecondaryCaptureImageStorage, "OT",
            seriesDescription, seriesNumber, equipment, now, seriesUid);
        ds.SetString(DicomTags.ImageType, "DERIVED", "SECONDARY");
        ds.SetIntegerString(DicomTags.InstanceNumber, instanceNumber);
        // The canvas keeps the source's row and column directions (it is only extended right and down), so the
        // source's orientation letters hold; a viewer uses them for its orientation markers.
        ds.SetString(DicomTags.PatientOrientation, PatientOrientation(source));
        ds.SetString(DicomTags.ConversionType, "WSD");
        ds.SetString(DicomTags.SecondaryCaptureDeviceManufacturer, equipment.Manufacturer);
        ds.SetString(DicomTags.SecondaryCaptureDeviceManufacturerModelName, equipment.ManufacturerModelName);
        ds.SetString(DicomTags.SecondaryCaptureDeviceSoftwareVersions, equipment.SoftwareVersions);
        ds.SetDate(DicomTags.DateOfSecondaryCapture, DateOnly.FromDateTime(now));
        ds.SetTime(DicomTags.TimeOfSecondaryCapture, TimeOnly.FromDateTime(now));
        ds.SetString(DicomTags.DerivationDescription, derivationDescription);
        ds.SetSequence(DicomTags.SourceImageSequence, DerivedSeries.SourceImage(source));
        ds.SetString(DicomTags.BurnedInAnnotation, "YES");
        ds.SetString(DicomTags.LossyImageCompression, "00");
        ds.SetString(DicomTags.ImageComments, "Not for diagnosis: automatic result for review");

        // No Pixel Spacing: the SC IOD has none, and a caption strip and colour bar are not patient geometry.
        ds.SetUInt16(DicomTags.SamplesPerPixel, 3);
        ds.SetString(DicomTags.PhotometricInterpretation, "RGB");
        ds.SetUInt16(DicomTags.PlanarConfiguration, 0);
        ds.SetUInt16(DicomTags.Rows, (ushort)picture.Height);
        ds.SetUInt16(DicomTags.Columns, (ushort)picture.Width);
        ds.SetUInt16(DicomTags.BitsAllocated, 8);
        ds.SetUInt16(DicomTags.BitsStored, 8);
        ds.SetUInt16(DicomTags.HighBit, 7);
        ds.SetUInt16(DicomTags.PixelRepresentation, 0);
        // RgbImage holds R, G, B per pixel, row by row: exactly Planar Configuration 0.
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, DerivedSeries.PadToEven((byte[])picture.Pixels.Clone()));
        return ds;
    }

    /// <summary>
    /// PS3.3 C.7.6.1.1.1: the row and column directions as patient letters (L/R, P/A, H/F), strongest component
    /// first, components under ~0.25 left out as most viewers do; empty when the source has no orientation.
    /// </summary>
    internal static string[] PatientOrientation(DicomDataset source)
    {
        var iop = source.GetDecimalStrings(DicomTags.ImageOrientationPatient);
        if (iop.Length != 6)
        {
            return [];
        }
        return [Letters(iop[0], iop[1], iop[2]), Letters(iop[3], iop[4], iop[5])];
    }

    private static string Letters(double x, double y, double z)
    {
        (double Value, char Positive, char Negative)[] components = [(x, 'L', 'R'), (y, 'P', 'A'), (z, 'H', 'F')];
        var text = new StringBuilder(3);
        foreach (var c in components.OrderByDescending(c => Math.Abs(c.Value)).Where(c => Math.Abs(c.Value) > 0.25))
        {
            text.Append(c.Value > 0 ? c.Positive : c.Negative);
        }
        return text.ToString();
    }
}
