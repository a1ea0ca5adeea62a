using System.Globalization;
using SpineSegDiff.Imaging.Rendering;
using SpineSegDiff.Segmentation.Inference;

namespace SpineSegDiff.Segmentation.Evaluation;

/// <summary>The report's pictures: example panels (image, truth, presegmentation, refined, heatmap) and a Dice chart.</summary>
internal static class EvaluationFigures
{
    private const int Size = SliceSegmenter.Size;
    private const int TitleHeight = 24;
    private const int Gap = 4;
    private static readonly Rgb Background = Rgb.Grey(24);

    public static IReadOnlyList<(string Path, string Caption)> Write(EvaluationResult result, string directory)
    {
        var figures = new List<(string, string)>();
        var chart = Path.Combine(directory, "evaluation-dice.png");
        DiceChart(result).SavePng(chart);
        figures.Add((chart, "Mean Dice per class, presegmentation (grey) and SpineSegDiff refinement (class colour); axis from 0.80 to 1.00."));
        for (var i = 0; i < result.Panels.Count; i++)
        {
            var panel = result.Panels[i];
            var path = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"evaluation-example-{i + 1}.png"));
            Panel(panel).SavePng(path);
            figures.Add((path, $"{panel.Title} (one of the images with the lowest presegmentation disc Dice): image, ground truth, presegmentation, SpineSegDiff, uncertainty heatmap (bits)."));
        }
        return figures;
    }

    private static RgbImage Panel(EvaluationPanel panel)
    {
        var grey = OverlayRenderer.Greyscale(panel.Image, Size, Size);
        (string Title, RgbImage Image)[] tiles =
        [
            ("image", grey),
            ("ground truth", OverlayRenderer.LabelOverlay(grey, panel.Truth)),
            ("presegmentation", OverlayRenderer.LabelOverlay(grey, panel.Presegmentation)),
            ("SpineSegDiff", OverlayRenderer.LabelOverlay(grey, panel.Refined)),
            ("uncertainty", OverlayRenderer.HeatmapOverlay(grey, panel.Uncertainty, caption: SegmentationFiles.HeatmapCaption, floor: OverlayRenderer.UncertaintyDisplayFloor)),
        ];
        var width = tiles.Sum(t => t.Image.Width) + (Gap * (tiles.Length - 1));
        var height = TitleHeight + tiles.Max(t => t.Image.Height);
        var canvas = new RgbImage(width, height);
        canvas.Fill(Background);
        var x = 0;
        foreach (var (title, image) in tiles)
        {
            BitmapFont.Draw(canvas, title, x + 4, 4, Rgb.White, scale: 2);
            canvas.Draw(image, x, TitleHeight);
            x += image.Width + Gap;
        }
        return canvas;
    }

    /// <summary>Grouped bars: per class, presegmentation (grey) beside SpineSegDiff (class colour).</summary>
    private static RgbImage DiceChart(EvaluationResult result)
    {
        const int width = 640, height = 360, left = 70, bottom = 50, top = 20;
        const double low = 0.80, high = 1.00;
        var (pre, post) = EvaluationReport.MeanDice(result);
        var canvas = new RgbImage(width, height);
        canvas.Fill(Rgb.White);
        var plotHeight = height - bottom - top;
        int Y(double dice) => top + (int)Math.Round((1 - ((Math.Clamp(dice, low, high) - low) / (high - low))) * plotHeight);
        for (var tick = 0; tick <= 4; tick++)
        {
            var value = low + (tick * (high - low) / 4);
            var y = Y(value);
            canvas.FillRectangle(left, y, width - left - 10, 1, Rgb.Grey(210));
            BitmapFont.Draw(canvas, value.ToString("F2", CultureInfo.InvariantCulture), 10, y - 7, Rgb.Black, scale: 2);
        }
        string[] names = ["canal", "vertebra", "disc"];
        var group = (width - left - 10) / 3;
        for (var c = 0; c < 3; c++)
        {
            var x0 = left + (c * group) + (group / 2) - 50;
            canvas.FillRectangle(x0, Y(pre[c]), 45, Y(low) - Y(pre[c]), Rgb.Grey(150));
            canvas.FillRectangle(x0 + 50, Y(post[c]), 45, Y(low) - Y(post[c]), OverlayRenderer.ClassColour((byte)(c + 1)));
            BitmapFont.Draw(canvas, pre[c].ToString("F3", CultureInfo.InvariantCulture), x0 - 2, Y(pre[c]) - 12, Rgb.Black);
            BitmapFont.Draw(canvas, post[c].ToString("F3", CultureInfo.InvariantCulture), x0 + 48, Y(post[c]) - 12, Rgb.Black);
            BitmapFont.Draw(canvas, names[c], x0 + 50 - (BitmapFont.MeasureWidth(names[c], 2) / 2), height - bottom + 12, Rgb.Black, scale: 2);
        }
        canvas.FillRectangle(left, Y(low), width - left - 10, 2, Rgb.Black);
        return canvas;
    }
}
