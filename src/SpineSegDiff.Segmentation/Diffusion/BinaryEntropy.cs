namespace SpineSegDiff.Segmentation.Diffusion;

/// <summary>
/// Uncertainty of a sample-mean class probability (paper Eq. 4-5). The paper's reference code uses −p·log p alone,
/// which is also zero at 0 and 1 but peaks at p = 1/e ≈ 0.37 instead of at the undecided p = 0.5, so it rates a
/// pixel the samples lean against above one they cannot decide. We use the full binary entropy
/// −p·log p − (1 − p)·log(1 − p) of "this pixel belongs to the class": symmetric, maximal (ln 2) at p = 0.5.
/// </summary>
public static class BinaryEntropy
{
    /// <summary>Entropy in nats; p is clamped to [0, 1].</summary>
    public static double Nats(double p)
    {
        p = Math.Clamp(p, 0, 1);
        return Term(p) + Term(1 - p);
    }

    /// <summary>Entropy in bits (nats / ln 2): 0 certain .. 1 undecided, the heatmap's unit.</summary>
    public static float Bits(float p) => (float)(Nats(p) / Math.Log(2));

    private static double Term(double p) => p > 0 ? -p * Math.Log(p) : 0;
}
