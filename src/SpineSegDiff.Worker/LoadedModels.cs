using SpineSegDiff.Segmentation.Inference;
using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Worker;

/// <summary>
/// The models, loaded once on first use and shared by the jobs of this process (loading takes seconds, a job uses
/// them read-only). Both models are loaded, so any routing profile can be served.
/// </summary>
public sealed class LoadedModels(WorkerOptions options) : IDisposable
{
    private readonly Lazy<SegmentationModels> _models = new(() =>
    {
        _ = new TorchRuntime(new TorchRuntimeOptions { Threads = options.Threads });
        var directory = string.IsNullOrEmpty(options.ModelsDirectory) ? SegmentationModels.FindDirectory() : options.ModelsDirectory;
        return SegmentationModels.Load(directory, options.Device);
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    public SegmentationModels Models => _models.Value;

    public void Dispose()
    {
        if (_models.IsValueCreated)
        {
            _models.Value.Dispose();
        }
    }
}
