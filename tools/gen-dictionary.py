#!/usr/bin/env python3
"""Generate the DICOM data dictionary of src/SpineSegDiff.Dicom from dcmtk's dicom.dic.

Usage:
    python3 tools/gen-dictionary.py [--check] [PATH/TO/dicom.dic]

Without a path the script uses the dictionary the dcmtk package installs
(/usr/share/libdcmtk*/dicom.dic, the highest version when there are several).

It writes, relative to the repository root (the parent of this script's folder):
    src/SpineSegDiff.Dicom/Dictionary/DicomDictionary.Generated.cs   (every entry, with VRs, VM, retired flag)
    src/SpineSegDiff.Dicom/Dictionary/DicomTags.Generated.cs         (a DicomTag field per exact entry)

--check writes nothing: it exits 1 when a committed file differs from what would be generated, 0 otherwise.
Exit status 2: bad arguments, dicom.dic not found, or an entry the script cannot represent.

How dicom.dic is read (see the header comments of the file itself):
  * Lines are "Tag<TAB>VR<TAB>Name<TAB>VM<TAB>Version"; '#' starts a comment line.
  * A tag part is "gggg", a range "gggg-gggg" (even values only), "gggg-o-gggg" (odd values only) or
    "gggg-u-gggg" (all values); "xx"-style wildcard nibbles ("60xx") are accepted as well. Each range must be
    expressible as a bit mask (an aligned power-of-two block, possibly restricted to even/odd values); the entry
    then gets Mask < 0xFFFFFFFF and Tag = the first tag of the range. E.g. (6000-60FF,0010) -> 0x60000010 with
    mask 0xFF01FFFF: even groups 6000..60FE only, since odd groups are private.
  * Retired: dcmtk writes retired elements with the version "DICOM/retired" and a "RETIRED_" keyword prefix;
    a version "RET" (older dictionaries) means the same. The prefix is removed: keywords are the PS3.6 ones.
  * Later lines override earlier ones with the same tag ("Entries may override existing entries").
  * The catch-all entries with version PRIVATE, ILLEGAL or GENERIC (private/illegal group lengths and private
    creators, the generic (gggg,0000) group length) are skipped: DicomDictionary.Find handles those by rule.
  * Private-creator-specific entries, "(gggg,"CREATOR",ee)", are skipped (there are none in dicom.dic; they
    live in dcmtk's private.dic, which this script does not read): private data elements have no dictionary VR
    and read as UN.
  * dcmtk pseudo-VRs become the list of possible VRs: xs -> US, SS; ox -> OB, OW; px -> OB, OW;
    lt -> US, SS, OW; up -> UL; na (items and delimiters) -> none; "US or SS" -> US, SS.
  * Entries with an empty keyword are skipped.

The output is sorted (exact entries by tag, masked entries by tag then mask) and independent of the input order,
of the machine and of the time, so running the script twice gives identical files.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re
import sys
from dataclasses import dataclass

SCRIPT = "tools/gen-dictionary.py"
DICTIONARY_CS = "src/SpineSegDiff.Dicom/Dictionary/DicomDictionary.Generated.cs"
TAGS_CS = "src/SpineSegDiff.Dicom/Dictionary/DicomTags.Generated.cs"
DEFAULT_GLOB = "/usr/share/libdcmtk*/dicom.dic"

# The members of SpineSegDiff.Dicom.DicomVR (None excluded).
REAL_VRS = frozenset(
    "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".split()
)

# dcmtk's internal VRs (dcvr.h) that are not DICOM VRs.
PSEUDO_VRS = {
    "xs": ("US", "SS"),  # US or SS, depending on Pixel Representation
    "ox": ("OB", "OW"),  # overlay, waveform, audio data
    "px": ("OB", "OW"),  # pixel data
    "lt": ("US", "SS", "OW"),  # LUT data
    "up": ("UL",),  # unsigned pointer (DICOMDIR offsets)
    "na": (),  # items and delimitation items: no VR
}

CATCH_ALL_VERSIONS = frozenset({"PRIVATE", "ILLEGAL", "GENERIC"})

# Names a static field of a static class must not take (they would hide System.Object members: CS0108).
RESERVED_MEMBER_NAMES = frozenset(
    {"Equals", "ReferenceEquals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "Finalize", "DicomTags"}
)

CSHARP_KEYWORDS = frozenset(
    """abstract as base bool break byte case catch char checked class const continue decimal default delegate do
    double else enum event explicit extern false finally fixed float for foreach goto if implicit in int interface
    internal is lock long namespace new null object operator out override params private protected public readonly
    ref return sbyte sealed short sizeof stackalloc static string struct switch this throw true try typeof uint ulong
    unchecked unsafe ushort using virtual void volatile while""".split()
)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TAG_LINE = re.compile(r"^\(([^,]+),([^)]+)\)$")
PRIVATE_TAG = re.compile(r'^\([^,"]+,"[^"]*",[^)"]+\)$')  # (gggg,"CREATOR",ee), gggg possibly a range
HEX4 = re.compile(r"^[0-9A-Fa-fxX]{4}$")
RANGE = re.compile(r"^([0-9A-Fa-f]{4})-(?:([oOuU])-)?([0-9A-Fa-f]{4})$")


class DictionaryError(Exception):
    pass


@dataclass(frozen=True)
class Entry:
    tag: int  # the first tag the entry covers (group << 16 | element)
    mask: int  # 0xFFFFFFFF for an exact tag
    keyword: str
    vrs: tuple[str, ...]
    vm: str
    retired: bool

    @property
    def exact(self) -> bool:
        return self.mask == 0xFFFFFFFF


def parse_part(text: str, where: str) -> tuple[int, int]:
    """Returns (value, mask) for one 16-bit tag part."""
    text = text.strip()
    if HEX4.match(text):
        value = mask = 0
        for ch in text:
            value <<= 4
            mask <<= 4
            if ch in "xX":
                continue
            value |= int(ch, 16)
            mask |= 0xF
        return value, mask
    m = RANGE.match(text)
    if not m:
        raise DictionaryError(f"{where}: cannot read tag part '{text}'")
    low, restriction, high = int(m.group(1), 16), (m.group(2) or "e").lower(), int(m.group(3), 16)
    size = high - low + 1
    if size <= 0 or size & (size - 1) or low & (size - 1):
        raise DictionaryError(f"{where}: range '{text}' is not an aligned power-of-two block, no mask can express it")
    mask = 0xFFFF & ~(size - 1)
    if restriction == "e":
        if low & 1:
            raise DictionaryError(f"{where}: even range '{text}' starts at an odd value")
        mask |= 1
    elif restriction == "o":
        low |= 1
        mask |= 1
    return low, mask


def parse_vrs(text: str, where: str) -> tuple[str, ...]:
    text = text.strip()
    if text in PSEUDO_VRS:
        return PSEUDO_VRS[text]
    result: list[str] = []
    for token in re.split(r"\s+or\s+|\s*[/,\\|]\s*", text):
        token = token.strip()
        vrs = PSEUDO_VRS.get(token, (token,))
        for vr in vrs:
            if vr not in REAL_VRS:
                raise DictionaryError(f"{where}: unknown VR '{token}' in '{text}'")
            if vr not in result:
                result.append(vr)
    if not result:
        raise DictionaryError(f"{where}: empty VR")
    return tuple(result)


@dataclass
class Parsed:
    entries: list[Entry]
    skipped_private: int
    skipped_catch_all: list[str]
    skipped_no_keyword: int
    edition: str


def parse(path: str) -> Parsed:
    with open(path, encoding="utf-8", errors="strict") as f:
        lines = f.read().splitlines()

    by_tag: dict[tuple[int, int], Entry] = {}
    skipped_private = skipped_no_keyword = 0
    skipped_catch_all: list[str] = []
    edition = ""
    for number, raw in enumerate(lines, 1):
        where = f"{path}:{number}"
        line = raw.rstrip("\r\n")
        if line.startswith("#"):
            m = re.match(r"^#\s*Generated automatically from (.+?)\.?\s*$", line)
            if m and not edition:
                edition = m.group(1)
            continue
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("\t")]
        if not 4 <= len(fields) <= 5:
            raise DictionaryError(f"{where}: expected 'Tag VR Name VM [Version]', got {raw!r}")
        tag_text, vr_text, keyword, vm = fields[0], fields[1], fields[2], fields[3]
        version = fields[4] if len(fields) > 4 else ""
        if PRIVATE_TAG.match(tag_text):
            skipped_private += 1
            continue
        if version.upper() in CATCH_ALL_VERSIONS:
            skipped_catch_all.append(f"{tag_text} {keyword}")
            continue
        if not keyword:
            skipped_no_keyword += 1
            continue
        m = TAG_LINE.match(tag_text)
        if not m:
            raise DictionaryError(f"{where}: cannot read tag '{tag_text}'")
        group, group_mask = parse_part(m.group(1), where)
        element, element_mask = parse_part(m.group(2), where)
        retired = version.upper() == "RET" or "retired" in version.lower() or keyword.startswith("RETIRED_")
        if keyword.startswith("RETIRED_"):
            keyword = keyword[len("RETIRED_"):]
        if not IDENTIFIER.match(keyword) or keyword in CSHARP_KEYWORDS or keyword in RESERVED_MEMBER_NAMES:
            raise DictionaryError(f"{where}: keyword '{keyword}' cannot be a C# field name")
        if not re.match(r"^[0-9n]+(-[0-9n]+)?$", vm):
            raise DictionaryError(f"{where}: cannot read VM '{vm}'")
        entry = Entry(
            tag=(group << 16) | element,
            mask=(group_mask << 16) | element_mask,
            keyword=keyword,
            vrs=parse_vrs(vr_text, where),
            vm=vm,
            retired=retired,
        )
        by_tag[(entry.tag, entry.mask)] = entry  # later entries override earlier ones

    entries = list(by_tag.values())
    validate(entries, path)
    return Parsed(entries, skipped_private, sorted(skipped_catch_all), skipped_no_keyword, edition)


def validate(entries: list[Entry], path: str) -> None:
    seen: dict[str, Entry] = {}
    for e in entries:
        if e.keyword in seen:
            raise DictionaryError(f"{path}: keyword '{e.keyword}' is used by {fmt_tag(seen[e.keyword].tag)} and {fmt_tag(e.tag)}")
        seen[e.keyword] = e
    masked = sorted((e for e in entries if not e.exact), key=lambda e: (e.tag, e.mask))
    for i, a in enumerate(masked):
        for b in masked[i + 1:]:
            common = a.mask & b.mask
            if (a.tag & common) == (b.tag & common):
                raise DictionaryError(f"{path}: repeating entries {a.keyword} and {b.keyword} overlap")


def fmt_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def cs_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header(source_name: str, digest: str, edition: str, extra: list[str]) -> list[str]:
    lines = [
        "// <auto-generated>",
        f"//     Generated by {SCRIPT} from dcmtk's {source_name}",
        f"//     (sha256 {digest}" + (f", {edition}" if edition else "") + ").",
        f"//     Do not edit: regenerate with `python3 {SCRIPT}` (reads /usr/share/libdcmtk*/dicom.dic, or a path",
        f"//     given as argument); `python3 {SCRIPT} --check` tells whether this file is up to date.",
    ]
    lines += [f"//     {x}" for x in extra]
    lines += ["// </auto-generated>", "", "#nullable enable", ""]
    return lines


def table_row(e: Entry, with_mask: bool) -> str:
    vrs = "/".join(e.vrs) if e.vrs else "-"
    mask = f"{e.mask:08X}  " if with_mask else ""
    return f"        {fmt_tag(e.tag)}  {mask}{vrs:<8}  {e.vm:<5}  {'R' if e.retired else '-'}  {e.keyword}"


def render_dictionary(parsed: Parsed, source_name: str, digest: str) -> str:
    exact = sorted((e for e in parsed.entries if e.exact), key=lambda e: e.tag)
    masked = sorted((e for e in parsed.entries if not e.exact), key=lambda e: (e.tag, e.mask))
    retired = sum(1 for e in parsed.entries if e.retired)
    out = header(
        source_name,
        digest,
        parsed.edition,
        [
            f"Entries: {len(exact)} exact, {len(masked)} repeating (masked), {retired} of them retired.",
            f"Skipped: {len(parsed.skipped_catch_all)} catch-all entries (handled by DicomDictionary.Find), "
            f"{parsed.skipped_private} private-creator entries, {parsed.skipped_no_keyword} without keyword.",
        ],
    )
    source = source_name + (f" ({parsed.edition})" if parsed.edition else "")
    out += [
        "namespace SpineSegDiff.Dicom;",
        "",
        "public static partial class DicomDictionary",
        "{",
        "    /// <summary>Where the generated tables came from.</summary>",
        f"    public const string Source = {cs_string(source)};",
        "",
        "    // The tables are text (parsed once by DicomDictionary.cs) rather than thousands of constructor calls: one string",
        "    // constant loads in microseconds, while a method with 5000 `new` expressions costs ~200 ms of JIT at startup.",
        "    // Columns: tag, VRs ('/'-separated; '-' for none), VM, 'R' when retired, keyword.",
        "",
        f"    /// <summary>{len(exact)} entries for one tag each, sorted by tag.</summary>",
        '    private const string GeneratedExactTable = """',
    ]
    out += [table_row(e, with_mask=False) for e in exact]
    out += [
        '        """;',
        "",
        "    // Columns: first tag, mask (a tag matches when (tag & mask) == first tag), VRs, VM, retired, keyword.",
        "",
        f"    /// <summary>{len(masked)} repeating-group and element-range entries, sorted by tag.</summary>",
        '    private const string GeneratedMaskedTable = """',
    ]
    out += [table_row(e, with_mask=True) for e in masked]
    out += ['        """;', "}", ""]
    return "\n".join(out)


def render_tags(parsed: Parsed, source_name: str, digest: str) -> str:
    exact = sorted((e for e in parsed.entries if e.exact), key=lambda e: e.tag)
    out = header(source_name, digest, parsed.edition, [f"{len(exact)} tags: every exact (non-repeating) entry, retired ones included."])
    out += [
        "namespace SpineSegDiff.Dicom;",
        "",
        "/// <summary>The tags of the data dictionary by keyword (PS3.6). Repeating-group tags are not listed.</summary>",
        "public static partial class DicomTags",
        "{",
    ]
    for e in exact:
        if e.retired:
            out.append("    /// <summary>Retired.</summary>")
        out.append(f"    public static DicomTag {e.keyword} => new(0x{e.tag >> 16:04X}, 0x{e.tag & 0xFFFF:04X});")
    out += ["}", ""]
    return "\n".join(out)


def find_default() -> str:
    candidates = glob.glob(DEFAULT_GLOB)

    def version(p: str) -> tuple[int, str]:
        m = re.search(r"libdcmtk(\d+)", p)
        return (int(m.group(1)) if m else -1, p)

    candidates.sort(key=version)
    if not candidates:
        raise FileNotFoundError(f"no {DEFAULT_GLOB}: install dcmtk (apt-get install dcmtk) or give the path of dicom.dic")
    return candidates[-1]


def source_name(path: str) -> str:
    """A machine-independent name: 'libdcmtk17/dicom.dic' for the installed file, the file name otherwise."""
    absolute = os.path.abspath(path)
    parent = os.path.basename(os.path.dirname(absolute))
    name = os.path.basename(absolute)
    return f"{parent}/{name}" if parent.startswith("libdcmtk") else name


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Generate the C# DICOM dictionary from dcmtk's dicom.dic.")
    parser.add_argument("dicom_dic", nargs="?", help=f"path of dicom.dic (default: {DEFAULT_GLOB})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the generated files are out of date")
    args = parser.parse_args(argv)

    try:
        path = args.dicom_dic or find_default()
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        parsed = parse(path)
    except (OSError, DictionaryError, UnicodeDecodeError) as error:
        print(f"gen-dictionary: {error}", file=sys.stderr)
        return 2

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    name = source_name(path)
    outputs = {
        DICTIONARY_CS: render_dictionary(parsed, name, digest),
        TAGS_CS: render_tags(parsed, name, digest),
    }

    stale = []
    for relative, text in outputs.items():
        target = os.path.join(root, relative)
        try:
            with open(target, encoding="utf-8", newline="") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        stale.append(relative)
        if not args.check:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)

    exact = sum(1 for e in parsed.entries if e.exact)
    summary = (
        f"{path}: {exact} exact, {len(parsed.entries) - exact} masked, "
        f"{sum(1 for e in parsed.entries if e.retired)} retired; skipped {len(parsed.skipped_catch_all)} catch-all, "
        f"{parsed.skipped_private} private-creator, {parsed.skipped_no_keyword} without keyword"
    )
    if args.check:
        if stale:
            print(f"gen-dictionary: out of date: {', '.join(stale)}; run: python3 {SCRIPT}", file=sys.stderr)
            return 1
        print(f"gen-dictionary: up to date ({summary})")
        return 0
    print(f"gen-dictionary: {'wrote ' + ', '.join(stale) if stale else 'unchanged'} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
