using System.Text;

namespace SpineSegDiff.Dicom;

/// <summary>
/// Maps the Specific Character Set (0008,0005) to a .NET encoding for the VRs it governs (SH, LO, ST, LT, PN, UC, UT).
/// Supported: the default repertoire (ISO_IR 6), ISO_IR 100 (Latin-1), ISO_IR 192 (UTF-8, spelled exactly so:
/// fo-dicom #1705), the other single-byte ISO 8859 parts and GB18030/GBK. ISO 2022 code extensions are decoded with
/// their base encoding; escape sequences switching to other code pages are not interpreted.
/// </summary>
public sealed class DicomCharacterSet
{
    private DicomCharacterSet(string definedTerm, Encoding encoding)
    {
        DefinedTerm = definedTerm;
        Encoding = encoding;
    }

    public string DefinedTerm { get; }

    public Encoding Encoding { get; }

    /// <summary>ISO_IR 6: ASCII. Bytes above 127 decode as U+FFFD rather than failing.</summary>
    public static readonly DicomCharacterSet Default = new(string.Empty, Encoding.ASCII);

    public static readonly DicomCharacterSet Latin1 = new("ISO_IR 100", Encoding.Latin1);

    public static readonly DicomCharacterSet Utf8 = new("ISO_IR 192", new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    public bool IsDefaultRepertoire => DefinedTerm.Length == 0;

    /// <summary>
    /// Resolves the value of (0008,0005). An empty value means the default repertoire, unless a dataset-level
    /// fallback applies (see <see cref="DicomReadOptions.DefaultCharacterSet"/>). Returns false for terms we do not know.
    /// </summary>
    public static bool TryFromDefinedTerms(IReadOnlyList<string> terms, out DicomCharacterSet characterSet)
    {
        ArgumentNullException.ThrowIfNull(terms);
        // With code extensions the first value may be empty (default repertoire in G0); the first non-empty
        // term names the code page that carries the non-ASCII characters.
        var term = terms.Select(t => t.Trim()).FirstOrDefault(t => t.Length > 0) ?? string.Empty;
        return TryFromDefinedTerm(term, out characterSet);
    }

    public static bool TryFromDefinedTerm(string term, out DicomCharacterSet characterSet)
    {
        ArgumentNullException.ThrowIfNull(term);
        characterSet = Default;
        var normalized = term.Trim();
        switch (normalized)
        {
            case "":
            case "ISO_IR 6":
            case "ISO 2022 IR 6":
                characterSet = normalized.Length == 0 ? Default : new DicomCharacterSet(normalized, Encoding.ASCII);
                return true;
            case "ISO_IR 100":
                characterSet = Latin1;
                return true;
            case "ISO 2022 IR 100":
                characterSet = new DicomCharacterSet(normalized, Encoding.Latin1);
                return true;
            case "ISO_IR 192":
                characterSet = Utf8;
                return true;
        }
        int? codePage = normalized.Replace("ISO 2022 IR ", "ISO_IR ", StringComparison.Ordinal) switch
        {
            "ISO_IR 101" => 28592,
            "ISO_IR 109" => 28593,
            "ISO_IR 110" => 28594,
            "ISO_IR 144" => 28595,
            "ISO_IR 127" => 28596,
            "ISO_IR 126" => 28597,
            "ISO_IR 138" => 28598,
            "ISO_IR 148" => 28599,
            "ISO_IR 203" => 28605,
            "ISO_IR 166" => 874,
            "ISO_IR 13" => 932,
            "GB18030" => 54936,
            "GBK" => 936,
            _ => null,
        };
        if (codePage is null)
        {
            return false;
        }
        // Use the provider directly instead of Encoding.RegisterProvider: that would be process-wide mutable state.
        var encoding = CodePagesEncodingProvider.Instance.GetEncoding(codePage.Value);
        if (encoding is null)
        {
            return false;
        }
        characterSet = new DicomCharacterSet(normalized, encoding);
        return true;
    }

    /// <summary>Whether every character of the text can be encoded in this character set.</summary>
    public bool CanEncode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Encoding is UTF8Encoding)
        {
            return true;
        }
        var strict = (Encoding)Encoding.Clone();
        strict.EncoderFallback = EncoderFallback.ExceptionFallback;
        try
        {
            strict.GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    public override string ToString() => IsDefaultRepertoire ? "ISO_IR 6 (default)" : DefinedTerm;
}
