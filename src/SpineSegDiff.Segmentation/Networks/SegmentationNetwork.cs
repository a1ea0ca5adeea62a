using SpineSegDiff.Segmentation.Native;

namespace SpineSegDiff.Segmentation.Networks;

/// <summary>
/// What both networks share: the owned native model, its optional AdamW optimizer, checkpoints, size figures.
/// Instances are not thread-safe for training; concurrent inference calls on one instance are allowed.
/// </summary>
public abstract class SegmentationNetwork : IDisposable
{
    private readonly ModelHandle model;
    private OptimizerHandle? optimizer;

    private protected SegmentationNetwork(ModelHandle model)
    {
        this.model = model;
        NativeEngine.Check(NativeMethods.ModelParameterCount(model, out var count), "counting parameters");
        ParameterCount = count;
        NativeEngine.Check(NativeMethods.ModelDevice(model, out var device), "reading the model device");
        Device = (ComputeDevice)device;
    }

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount { get; }

    /// <summary>The device the parameters live on (never <see cref="ComputeDevice.Auto"/>).</summary>
    public ComputeDevice Device { get; }

    public bool HasOptimizer => optimizer is not null;

    /// <summary>AdamW learning rate; set it before each step to run a schedule.</summary>
    public double LearningRate
    {
        get
        {
            NativeEngine.Check(NativeMethods.OptimizerGetLearningRate(RequireOptimizer(), out var rate), "reading the learning rate");
            return rate;
        }

        set => NativeEngine.Check(NativeMethods.OptimizerSetLearningRate(RequireOptimizer(), value), "setting the learning rate");
    }

    internal ModelHandle Model
    {
        get
        {
            ObjectDisposedException.ThrowIf(model.IsClosed, this);
            return model;
        }
    }

    /// <summary>Creates (or replaces) the AdamW optimizer over all parameters, with fresh moment estimates.</summary>
    public void CreateOptimizer(OptimizerSettings? settings = null)
    {
        settings ??= OptimizerSettings.Default;
        NativeEngine.Check(
            NativeMethods.OptimizerCreate(Model, settings.LearningRate, settings.WeightDecay, out var created),
            "creating the optimizer");
        optimizer?.Dispose();
        optimizer = created;
    }

    /// <summary>
    /// Writes configuration and parameters, plus the optimizer state when there is an optimizer and
    /// <paramref name="includeOptimizerState"/> is set (needed for exact resumption). Replaces the file atomically.
    /// </summary>
    public void Save(string path, bool includeOptimizerState = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var status = includeOptimizerState && optimizer is not null
            ? NativeMethods.ModelSave(Model, optimizer, path)
            : NativeMethods.ModelSaveWithoutOptimizer(Model, 0, path);
        NativeEngine.Check(status, $"saving checkpoint {path}");
    }

    /// <summary>FLOPs (2 x multiply-accumulates of convolutions and linear layers) of one image through the main forward.</summary>
    public long ForwardFlops(int height, int width) => Flops(0, height, width);

    public void Dispose()
    {
        optimizer?.Dispose();
        model.Dispose();
        GC.SuppressFinalize(this);
    }

    private protected static ModelHandle CreateModel(in NativeMethods.NetworkConfigStruct config, ComputeDevice device)
    {
        NativeEngine.EnsureLoaded();
        NativeEngine.Check(NativeMethods.ModelCreate(config, (int)device, out var model), "creating a network");
        return model;
    }

    private static ModelHandle LoadModel(string path, NetworkKind kind, ComputeDevice device)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        NativeEngine.EnsureLoaded();
        NativeEngine.Check(NativeMethods.ModelLoad(path, (int)kind, (int)device, out var model), $"loading checkpoint {path}");
        return model;
    }

    /// <summary>Loads a checkpoint of <paramref name="kind"/> and wraps it; the AdamW state too when asked.</summary>
    private protected static TNetwork Load<TNetwork>(string path, NetworkKind kind, ComputeDevice device, bool restoreOptimizer, Func<ModelHandle, TNetwork> wrap)
        where TNetwork : SegmentationNetwork
    {
        var network = wrap(LoadModel(path, kind, device));
        try
        {
            if (restoreOptimizer)
            {
                network.CreateOptimizer();
                NativeEngine.Check(NativeMethods.OptimizerLoad(network.RequireOptimizer(), path), $"restoring the optimizer from {path}");
            }

            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private protected NativeMethods.NetworkConfigStruct NativeConfig()
    {
        NativeEngine.Check(NativeMethods.ModelConfig(Model, out var config), "reading the network configuration");
        return config;
    }

    private protected long Flops(int stage, int height, int width)
    {
        NativeEngine.Check(NativeMethods.ModelForwardFlops(Model, stage, height, width, out var flops), "counting FLOPs");
        return flops;
    }

    private protected OptimizerHandle RequireOptimizer()
    {
        ObjectDisposedException.ThrowIf(model.IsClosed, this);
        return optimizer ?? throw new InvalidOperationException("no optimizer: call CreateOptimizer or load with restoreOptimizer");
    }

    private protected static void RequireLength<T>(ReadOnlySpan<T> buffer, long expected, string name)
    {
        if (buffer.Length != expected)
        {
            throw new ArgumentException($"{name} holds {buffer.Length} values, the shape needs {expected}", name);
        }
    }

    private protected static void RequirePositive(int batch, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
    }
}
