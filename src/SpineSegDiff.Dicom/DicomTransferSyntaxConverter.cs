using System.ComponentModel;
using System.Globalization;

namespace SpineSegDiff.Dicom;

/// <summary>Lets configuration bind a transfer syntax from its UID ("1.2.840.10008.1.2.1").</summary>
public sealed class DicomTransferSyntaxConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value)
    {
        if (value is string uid)
        {
            var trimmed = uid.Trim();
            if (!DicomUids.IsValid(trimmed))
            {
                throw new FormatException($"'{uid}' is not a transfer syntax UID.");
            }
            return DicomTransferSyntax.FromUid(trimmed);
        }
        return base.ConvertFrom(context, culture, value);
    }

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is DicomTransferSyntax ts ? ts.Uid : base.ConvertTo(context, culture, value, destinationType);
}
