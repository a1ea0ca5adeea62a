using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;

// The files of this folder stay in SpineSegDiff.Dicom: a SpineSegDiff.Dicom.Dictionary namespace would hide
// System.Collections.Generic.Dictionary<,> from all code in SpineSegDiff.Dicom.
namespace SpineSegDiff.Dicom;

/// <summary>One attribute of the data dictionary (PS3.6), or one repeating-group / element-range pattern.</summary>
/// <param name="Tag">The tag; for a repeating entry the first tag it covers, e.g. (6000,0010) for Overlay Rows.</param>
/// <param name="Mask">
/// 0xFFFFFFFF for an exact tag. For a repeating entry a tag matches when <c>(tag.Value &amp; Mask) == Tag.Value</c>,
/// e.g. 0xFF01FFFF for (60xx,0010): groups 6000-60FE, even only (odd groups are private).
/// </param>
/// <param name="Keyword">The PS3.6 keyword (retired elements without dcmtk's "RETIRED_" prefix).</param>
/// <param name="ValueRepresentations">
/// The possible VRs: one for most attributes, several where PS3.6 lists "US or SS", "OB or OW" and the like, none for
/// items and delimitation items.
/// </param>
/// <param name="ValueMultiplicity">The VM as PS3.6 writes it: "1", "1-n", "2-2n", ...</param>
/// <param name="IsRetired">Retired in the current edition of the standard.</param>
public sealed record DicomDictionaryEntry(
    DicomTag Tag,
    uint Mask,
    string Keyword,
    IReadOnlyList<DicomVR> ValueRepresentations,
    string ValueMultiplicity,
    bool IsRetired)
{
    /// <summary>The first of <see cref="ValueRepresentations"/>, or UN when there is none.</summary>
    public DicomVR DefaultVR => ValueRepresentations.Count > 0 ? ValueRepresentations[0] : DicomVR.UN;

    /// <summary>True for a repeating-group or element-range entry.</summary>
    public bool IsRepeating => Mask != 0xFFFFFFFF;

    /// <summary>Whether <paramref name="tag"/> falls under this entry's tag and mask.</summary>
    public bool Matches(DicomTag tag) => (tag.Value & Mask) == Tag.Value;
}

/// <summary>
/// The DICOM data dictionary: the standard attributes of PS3.6 (and DICONDE/DICOS) generated from dcmtk's dicom.dic
/// by <c>tools/gen-dictionary.py</c> into DicomDictionary.Generated.cs, plus two rules: (gggg,0000) is a group
/// length (UL) in every group, and (gggg,0010-00FF) in an odd group is a private creator (LO). Private data elements
/// are not in the dictionary. All tables are immutable and built once.
/// </summary>
public static partial class DicomDictionary
{
    private const uint ExactMask = 0xFFFFFFFF;

    /// <summary>What <see cref="Find(DicomTag)"/> returns for (gggg,0000) outside groups 0000 and 0002 (those have their own entries).</summary>
    public static readonly DicomDictionaryEntry GroupLength =
        new(new DicomTag(0x0000, 0x0000), 0x0000FFFF, "GroupLength", VRs(DicomVR.UL), "1", IsRetired: true);

    /// <summary>
    /// What <see cref="Find(DicomTag)"/> returns for a private creator, (gggg,0010-00FF) with gggg odd. Its mask
    /// (odd group, element 00xx) is the nearest a mask comes; <see cref="DicomTag.IsPrivateCreator"/> is the rule.
    /// </summary>
    public static readonly DicomDictionaryEntry PrivateCreator =
        new(new DicomTag(0x0001, 0x0000), 0x0001FF00, "PrivateCreator", VRs(DicomVR.LO), "1", IsRetired: false);

    /// <summary>Every generated entry: the exact ones sorted by tag, then the repeating ones sorted by tag.</summary>
    public static ImmutableArray<DicomDictionaryEntry> Entries { get; } = ParseTables();

    private static readonly FrozenDictionary<uint, DicomDictionaryEntry> s_exact =
        Entries.Where(e => !e.IsRepeating).ToFrozenDictionary(e => e.Tag.Value);

    // One table per distinct mask, the most specific mask (most bits set) first; key: tag.Value & mask.
    private static readonly MaskedTable[] s_masked = Entries
        .Where(e => e.IsRepeating)
        .GroupBy(e => e.Mask)
        .OrderByDescending(g => BitOperations.PopCount(g.Key))
        .ThenByDescending(g => g.Key)
        .Select(g => new MaskedTable(g.Key, g.ToFrozenDictionary(e => e.Tag.Value)))
        .ToArray();

    private static readonly FrozenDictionary<string, DicomDictionaryEntry> s_byKeyword =
        Entries.ToFrozenDictionary(e => e.Keyword, StringComparer.Ordinal);

    /// <summary>
    /// The entry for <paramref name="tag"/>: an exact entry first, then a repeating-group / element-range entry,
    /// then the group length and private creator rules. Null for private data elements and unknown tags.
    /// </summary>
    public static DicomDictionaryEntry? Find(DicomTag tag)
    {
        var value = tag.Value;
        if (s_exact.TryGetValue(value, out var entry))
        {
            return entry;
        }
        if (tag.IsPrivate)
        {
            // Odd groups are private: no standard repeating entry applies there.
            return tag.IsGroupLength ? GroupLength : tag.IsPrivateCreator ? PrivateCreator : null;
        }
        foreach (var table in s_masked)
        {
            if (table.Entries.TryGetValue(value & table.Mask, out entry))
            {
                return entry;
            }
        }
        return tag.IsGroupLength ? GroupLength : null;
    }

    /// <summary>
    /// The entry with this keyword (ordinal, case-sensitive), e.g. "PatientName" or "OverlayRows"; null when there is
    /// none. The rule entries <see cref="GroupLength"/> and <see cref="PrivateCreator"/> are not found by keyword.
    /// </summary>
    public static DicomDictionaryEntry? Find(string keyword)
    {
        ArgumentNullException.ThrowIfNull(keyword);
        return s_byKeyword.GetValueOrDefault(keyword);
    }

    /// <summary>The tag of a keyword; for a repeating entry the first tag it covers, e.g. (6000,0010) for OverlayRows.</summary>
    public static bool TryGetTag(string keyword, out DicomTag tag)
    {
        var entry = Find(keyword);
        tag = entry?.Tag ?? default;
        return entry is not null;
    }

    /// <summary>
    /// The VR to read an element with in Implicit VR: the entry's <see cref="DicomDictionaryEntry.DefaultVR"/>, except
    /// that an entry that may be OW among others (Pixel Data, Overlay Data, LUT Data, ...) reads as OW (PS3.5 A.1);
    /// UN for private data elements, unknown tags, items and delimiters.
    /// </summary>
    public static DicomVR ImplicitVR(DicomTag tag)
    {
        var entry = Find(tag);
        if (entry is null)
        {
            return DicomVR.UN;
        }
        var vrs = entry.ValueRepresentations;
        return vrs.Count > 1 && vrs.Contains(DicomVR.OW) ? DicomVR.OW : entry.DefaultVR;
    }

    private static IReadOnlyList<DicomVR> VRs(params DicomVR[] vrs) => ImmutableArray.Create(vrs);

    /// <summary>Reads GeneratedExactTable and GeneratedMaskedTable (DicomDictionary.Generated.cs).</summary>
    private static ImmutableArray<DicomDictionaryEntry> ParseTables()
    {
        var builder = ImmutableArray.CreateBuilder<DicomDictionaryEntry>(5000);
        var vrLists = new Dictionary<string, IReadOnlyList<DicomVR>>(StringComparer.Ordinal); // one shared list per VR text
        ParseTable(GeneratedExactTable, hasMask: false, builder, vrLists);
        ParseTable(GeneratedMaskedTable, hasMask: true, builder, vrLists);
        return builder.DrainToImmutable();
    }

    private static void ParseTable(
        string table, bool hasMask, ImmutableArray<DicomDictionaryEntry>.Builder entries, Dictionary<string, IReadOnlyList<DicomVR>> vrLists)
    {
        var columns = hasMask ? 6 : 5;
        foreach (var line in table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != columns)
            {
                throw new InvalidOperationException($"Bad data dictionary line '{line}': regenerate with tools/gen-dictionary.py.");
            }
            var i = 0;
            var tag = DicomTag.Parse(f[i++]);
            var mask = hasMask ? uint.Parse(f[i++], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) : ExactMask;
            var vrText = f[i++];
            if (!vrLists.TryGetValue(vrText, out var vrs))
            {
                vrs = vrText == "-" ? VRs() : VRs([.. vrText.Split('/').Select(ParseVR)]);
                vrLists.Add(vrText, vrs);
            }
            var vm = f[i++];
            var retired = f[i++] == "R";
            entries.Add(new DicomDictionaryEntry(tag, mask, f[i], vrs, vm, retired));
        }
    }

    private static DicomVR ParseVR(string code) => DicomVRInfo.TryParse(code, out var vr)
        ? vr
        : throw new InvalidOperationException($"Bad VR '{code}' in the data dictionary: regenerate with tools/gen-dictionary.py.");

    private readonly record struct MaskedTable(uint Mask, FrozenDictionary<uint, DicomDictionaryEntry> Entries);
}
