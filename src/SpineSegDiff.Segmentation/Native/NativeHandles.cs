using System.Runtime.InteropServices;

namespace SpineSegDiff.Segmentation.Native;

/// <summary>Owns an ssn_model; released with ssn_model_free.</summary>
internal sealed class ModelHandle : SafeHandle
{
    public ModelHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => NativeMethods.ModelFree(handle) == 0;
}

/// <summary>Owns an ssn_optimizer (AdamW over one model's parameters); released with ssn_optimizer_free.</summary>
internal sealed class OptimizerHandle : SafeHandle
{
    public OptimizerHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => NativeMethods.OptimizerFree(handle) == 0;
}

/// <summary>Owns an ssn_features (image-encoder output); released with ssn_features_free.</summary>
internal sealed class FeaturesHandle : SafeHandle
{
    public FeaturesHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => NativeMethods.FeaturesFree(handle) == 0;
}
