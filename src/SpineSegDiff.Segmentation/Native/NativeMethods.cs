using System.Runtime.InteropServices;

namespace SpineSegDiff.Segmentation.Native;

/// <summary>P/Invoke declarations of native/include/spineseg_native.h (ABI <see cref="ExpectedAbiVersion"/>).</summary>
internal static unsafe partial class NativeMethods
{
    public const string Library = "spineseg_native";

    /// <summary>The SSN_ABI_VERSION these declarations were written against.</summary>
    public const int ExpectedAbiVersion = 2;

    public const int MaxLevels = 8;

    [LibraryImport(Library, EntryPoint = "ssn_abi_version")]
    public static partial int AbiVersion();

    [LibraryImport(Library, EntryPoint = "ssn_last_error")]
    public static partial byte* LastError();

    [LibraryImport(Library, EntryPoint = "ssn_torch_version")]
    public static partial int TorchVersion(out int major, out int minor, out int patch);

    [LibraryImport(Library, EntryPoint = "ssn_cuda_available")]
    public static partial int CudaAvailable(out int available);

    [LibraryImport(Library, EntryPoint = "ssn_set_num_threads")]
    public static partial int SetNumThreads(int threads);

    [LibraryImport(Library, EntryPoint = "ssn_get_num_threads")]
    public static partial int GetNumThreads(out int threads);

    [LibraryImport(Library, EntryPoint = "ssn_manual_seed")]
    public static partial int ManualSeed(ulong seed);

    [LibraryImport(Library, EntryPoint = "ssn_model_create")]
    public static partial int ModelCreate(in NetworkConfigStruct config, int device, out ModelHandle model);

    [LibraryImport(Library, EntryPoint = "ssn_model_load", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ModelLoad(string path, int expectedKind, int device, out ModelHandle model);

    [LibraryImport(Library, EntryPoint = "ssn_model_save", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ModelSave(ModelHandle model, OptimizerHandle optimizer, string path);

    [LibraryImport(Library, EntryPoint = "ssn_model_save", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ModelSaveWithoutOptimizer(ModelHandle model, nint optimizer, string path);

    [LibraryImport(Library, EntryPoint = "ssn_model_free")]
    public static partial int ModelFree(nint model);

    [LibraryImport(Library, EntryPoint = "ssn_model_config")]
    public static partial int ModelConfig(ModelHandle model, out NetworkConfigStruct config);

    [LibraryImport(Library, EntryPoint = "ssn_model_device")]
    public static partial int ModelDevice(ModelHandle model, out int device);

    [LibraryImport(Library, EntryPoint = "ssn_model_parameter_count")]
    public static partial int ModelParameterCount(ModelHandle model, out long count);

    [LibraryImport(Library, EntryPoint = "ssn_diffusion_init_from_presegmentation")]
    public static partial int DiffusionInitFromPresegmentation(ModelHandle diffusion, ModelHandle presegmentation);

    [LibraryImport(Library, EntryPoint = "ssn_model_forward_flops")]
    public static partial int ModelForwardFlops(ModelHandle model, int stage, int height, int width, out long flops);

    [LibraryImport(Library, EntryPoint = "ssn_preseg_forward")]
    public static partial int PresegForward(ModelHandle model, float* images, int batch, int height, int width, float* logits);

    [LibraryImport(Library, EntryPoint = "ssn_diffusion_encode")]
    public static partial int DiffusionEncode(
        ModelHandle model, float* images, int batch, int height, int width, out FeaturesHandle features);

    [LibraryImport(Library, EntryPoint = "ssn_features_free")]
    public static partial int FeaturesFree(nint features);

    [LibraryImport(Library, EntryPoint = "ssn_features_shape")]
    public static partial int FeaturesShape(FeaturesHandle features, out int batch, out int height, out int width);

    [LibraryImport(Library, EntryPoint = "ssn_diffusion_denoise")]
    public static partial int DiffusionDenoise(
        ModelHandle model, FeaturesHandle features, float* noisyMasks, long* timesteps, int batch, int height, int width,
        float* cleanMasks);

    [LibraryImport(Library, EntryPoint = "ssn_optimizer_create")]
    public static partial int OptimizerCreate(
        ModelHandle model, double learningRate, double weightDecay, out OptimizerHandle optimizer);

    [LibraryImport(Library, EntryPoint = "ssn_optimizer_free")]
    public static partial int OptimizerFree(nint optimizer);

    [LibraryImport(Library, EntryPoint = "ssn_optimizer_set_learning_rate")]
    public static partial int OptimizerSetLearningRate(OptimizerHandle optimizer, double learningRate);

    [LibraryImport(Library, EntryPoint = "ssn_optimizer_get_learning_rate")]
    public static partial int OptimizerGetLearningRate(OptimizerHandle optimizer, out double learningRate);

    [LibraryImport(Library, EntryPoint = "ssn_optimizer_load", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OptimizerLoad(OptimizerHandle optimizer, string path);

    [LibraryImport(Library, EntryPoint = "ssn_preseg_train_step")]
    public static partial int PresegTrainStep(
        ModelHandle model, OptimizerHandle optimizer, float* images, byte* labels, int batch, int height, int width,
        out LossStruct loss);

    [LibraryImport(Library, EntryPoint = "ssn_diffusion_train_step")]
    public static partial int DiffusionTrainStep(
        ModelHandle model, OptimizerHandle optimizer, float* images, float* noisyMasks, long* timesteps, float* cleanMasks,
        int batch, int height, int width, out LossStruct loss);

    /// <summary>Layout of ssn_network_config.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct NetworkConfigStruct
    {
        public int Kind;
        public int LevelCount;
        public fixed int Widths[MaxLevels];
        public int TimeEmbeddingDim;
        public float LeakySlope;
    }

    /// <summary>Layout of ssn_loss.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LossStruct
    {
        public double Total;
        public double Mse;
        public double Dice;
        public double Bce;
    }
}
