namespace SpineSegDiff.Segmentation.Diffusion;

/// <summary>
/// The paper's Eq. 3: the final probability map is Σ w_t · mean_s(x̂0_{t,s}) over the last Ts sampling steps, with
/// w_t = exp(−a·(Ts − t)/Ts), t = 1..Ts in sampling order (t = Ts the last, least noisy step, weight 1), a = Ts/2,
/// normalised to sum 1. The public reference code applies the weights to the first Ts steps instead; we follow the
/// paper, which gives the most weight to the predictions made from the least noisy inputs.
/// </summary>
public static class TimeWeightedFusion
{
    /// <summary>Normalised weights for the last <paramref name="fusedSteps"/> steps, oldest first.</summary>
    public static double[] Weights(int fusedSteps, double? decay = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fusedSteps, 1);
        var a = decay ?? fusedSteps / 2.0;
        var weights = new double[fusedSteps];
        var sum = 0.0;
        for (var t = 1; t <= fusedSteps; t++)
        {
            weights[t - 1] = Math.Exp(-a * (fusedSteps - t) / fusedSteps);
            sum += weights[t - 1];
        }
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= sum;
        }
        return weights;
    }
}
