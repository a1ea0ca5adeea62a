using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Segmentation.Networks;

/// <summary>
/// The image encoder's multi-scale features of a batch of images (and the images themselves), kept on the network's
/// device. Compute once per image with <see cref="SpineSegDiffNetwork.EncodeImage"/> and reuse for every sample and
/// step; a batch-1 instance serves denoiser calls of any batch. Valid only with the network that made it.
/// </summary>
public sealed class ImageFeatures : IDisposable
{
    private readonly FeaturesHandle handle;

    internal ImageFeatures(FeaturesHandle handle)
    {
        this.handle = handle;
        NativeEngine.Check(NativeMethods.FeaturesShape(handle, out var batch, out var height, out var width), "reading feature shape");
        Batch = batch;
        Height = height;
        Width = width;
    }

    public int Batch { get; }

    public int Height { get; }

    public int Width { get; }

    internal FeaturesHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    public void Dispose() => handle.Dispose();
}
