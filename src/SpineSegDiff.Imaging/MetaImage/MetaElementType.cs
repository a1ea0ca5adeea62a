namespace SpineSegDiff.Imaging.MetaImage;

/// <summary>The MetaImage element types we read and write (ElementType = MET_...).</summary>
public enum MetaElementType
{
    Char,
    UChar,
    Short,
    UShort,
    Int,
    UInt,
    Float,
    Double,
}

internal static class MetaElementTypes
{
    public static MetaElementType Parse(string value) => value switch
    {
        "MET_CHAR" => MetaElementType.Char,
        "MET_UCHAR" => MetaElementType.UChar,
        "MET_SHORT" => MetaElementType.Short,
        "MET_USHORT" => MetaElementType.UShort,
        "MET_INT" or "MET_LONG" => MetaElementType.Int,
        "MET_UINT" or "MET_ULONG" => MetaElementType.UInt,
        "MET_FLOAT" => MetaElementType.Float,
        "MET_DOUBLE" => MetaElementType.Double,
        _ => throw new MetaImageFormatException($"Unsupported MetaImage ElementType '{value}'."),
    };

    public static string Name(MetaElementType type) => type switch
    {
        MetaElementType.Char => "MET_CHAR",
        MetaElementType.UChar => "MET_UCHAR",
        MetaElementType.Short => "MET_SHORT",
        MetaElementType.UShort => "MET_USHORT",
        MetaElementType.Int => "MET_INT",
        MetaElementType.UInt => "MET_UINT",
        MetaElementType.Float => "MET_FLOAT",
        MetaElementType.Double => "MET_DOUBLE",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static int Size(MetaElementType type) => type switch
    {
        MetaElementType.Char or MetaElementType.UChar => 1,
        MetaElementType.Short or MetaElementType.UShort => 2,
        MetaElementType.Int or MetaElementType.UInt or MetaElementType.Float => 4,
        MetaElementType.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static MetaElementType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(sbyte)) { return MetaElementType.Char; }
        if (typeof(T) == typeof(byte)) { return MetaElementType.UChar; }
        if (typeof(T) == typeof(short)) { return MetaElementType.Short; }
        if (typeof(T) == typeof(ushort)) { return MetaElementType.UShort; }
        if (typeof(T) == typeof(int)) { return MetaElementType.Int; }
        if (typeof(T) == typeof(uint)) { return MetaElementType.UInt; }
        if (typeof(T) == typeof(float)) { return MetaElementType.Float; }
        if (typeof(T) == typeof(double)) { return MetaElementType.Double; }
        throw new NotSupportedException($"No MetaImage element type for {typeof(T).Name}.");
    }
}
