namespace SpineSegDiff.Imaging.Synthesis;

/// <summary>Which tissue contrast a synthetic image imitates.</summary>
public enum MrContrast
{
    /// <summary>T1-weighted TSE: CSF dark, fat and marrow bright, discs intermediate.</summary>
    T1,

    /// <summary>T2-weighted TSE: CSF bright, healthy discs bright, degenerated discs dark.</summary>
    T2,

    /// <summary>Every tissue's intensity drawn at random (SynthSeg-style contrast agnosticism).</summary>
    Random,
}

/// <summary>Mean intensities (arbitrary units, brightest tissue about 1) of the tissues the renderer draws.</summary>
internal sealed class TissueIntensities
{
    public float Canal { get; init; }

    public float Marrow { get; init; }

    public float Cortex { get; init; }

    public float DiscHealthy { get; init; }

    public float DiscDegenerated { get; init; }

    public float Fat { get; init; }

    public float Muscle { get; init; }

    public float Ligament { get; init; }

    public float FlowVoid { get; init; }

    public float Bowel { get; init; }

    public float Air { get; init; }

    /// <summary>Disc intensity for a Pfirrmann grade: T2 signal falls as the nucleus dehydrates (grade 1 -> 5).</summary>
    public float Disc(int pfirrmann)
    {
        var t = Math.Clamp((pfirrmann - 1) / 4f, 0f, 1f);
        return DiscHealthy + t * (DiscDegenerated - DiscHealthy);
    }
}

/// <summary>
/// Draws per-image tissue intensities. T1/T2 ranges follow the usual appearance of lumbar TSE images at 1.5-3 T;
/// the random model draws every tissue independently but keeps the three labelled structures and their
/// neighbours apart, so every sample still has a learnable boundary.
/// </summary>
internal static class ContrastModel
{
    public static TissueIntensities Sample(MrContrast contrast, Random random)
    {
        float U(double lo, double hi) => (float)(lo + random.NextDouble() * (hi - lo));
        var intensities = contrast switch
        {
            MrContrast.T2 => new TissueIntensities
            {
                Canal = U(0.85, 1.0),
                Marrow = U(0.30, 0.50),
                Cortex = U(0.03, 0.10),
                DiscHealthy = U(0.65, 0.90),
                DiscDegenerated = U(0.12, 0.28),
                Fat = U(0.50, 0.80),
                Muscle = U(0.12, 0.25),
                Ligament = U(0.05, 0.12),
                FlowVoid = U(0.01, 0.06),
                Bowel = U(0.25, 0.70),
                Air = U(0.0, 0.02),
            },
            MrContrast.T1 => new TissueIntensities
            {
                Canal = U(0.08, 0.22),
                Marrow = U(0.55, 0.80),
                Cortex = U(0.03, 0.10),
                DiscHealthy = U(0.28, 0.42),
                DiscDegenerated = U(0.18, 0.32),
                Fat = U(0.80, 1.0),
                Muscle = U(0.25, 0.40),
                Ligament = U(0.05, 0.15),
                FlowVoid = U(0.01, 0.08),
                Bowel = U(0.25, 0.60),
                Air = U(0.0, 0.02),
            },
            _ => RandomContrast(random),
        };
        return intensities;
    }

    private static TissueIntensities RandomContrast(Random random)
    {
        // Rejection keeps canal, vertebra, disc and the tissue around them at least 0.08 apart.
        for (var attempt = 0; ; attempt++)
        {
            float U() => (float)(0.03 + random.NextDouble() * 0.97);
            var canal = U();
            var marrow = U();
            var disc = U();
            var muscle = U();
            var fat = U();
            var separated = Math.Abs(canal - marrow) > 0.08f && Math.Abs(canal - disc) > 0.08f && Math.Abs(disc - marrow) > 0.08f
                && Math.Abs(marrow - muscle) > 0.08f && Math.Abs(canal - fat) > 0.05f;
            if (!separated && attempt < 50)
            {
                continue;
            }
            return new TissueIntensities
            {
                Canal = canal,
                Marrow = marrow,
                Cortex = U() * 0.3f,
                DiscHealthy = disc,
                DiscDegenerated = disc * (float)(0.4 + 0.6 * random.NextDouble()),
                Fat = fat,
                Muscle = muscle,
                Ligament = U() * 0.4f,
                FlowVoid = U() * 0.3f,
                Bowel = U(),
                Air = (float)(random.NextDouble() * 0.03),
            };
        }
    }
}
