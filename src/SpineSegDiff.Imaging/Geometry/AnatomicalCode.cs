namespace SpineSegDiff.Imaging.Geometry;

/// <summary>Three-letter anatomical orientation codes derived from direction cosines.</summary>
public static class AnatomicalCode
{
    /// <summary>
    /// ITK (and MetaImage's AnatomicalOrientation) name each axis by the side it comes FROM, so ITK "RAI" is LPS+
    /// (identity direction). nibabel and most clinical software name the side it points TO ("RAS+").
    /// </summary>
    public enum Convention
    {
        To,
        From,
    }

    // LPS: +x = L, +y = P, +z = S.
    private static readonly char[] Positive = ['L', 'P', 'S'];
    private static readonly char[] Negative = ['R', 'A', 'I'];

    public static string FromDirection(Direction3 direction, Convention convention)
    {
        Span<char> code = stackalloc char[3];
        for (var a = 0; a < 3; a++)
        {
            var d = direction[a];
            var axis = d.DominantAxis();
            var positive = d[axis] > 0;
            if (convention == Convention.From)
            {
                positive = !positive;
            }
            code[a] = positive ? Positive[axis] : Negative[axis];
        }
        return new string(code);
    }
}
