#!/usr/bin/python3
"""Independent check that two DICOM files hold the same dataset, read by pydicom (not by our code).

Usage: compare-datasets.py A B [--ignore-meta]
Exit 0 when every data element (tag, VR where explicit, value, nested items) is equal; 1 with the differences
printed otherwise; 2 when a file cannot be read. The File Meta Information is not compared (each writer fills in
its own implementation UID).
"""
import sys

import pydicom


SWAP_SIZE = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def swapped(value, size):
    return b"".join(value[i:i + size][::-1] for i in range(0, len(value) - len(value) % size, size))


def differences(a, b, path="", swap=False):
    out = []
    tags = sorted(set(a.keys()) | set(b.keys()))
    for tag in tags:
        if tag.element == 0:  # group lengths are retired and recomputed by writers
            continue
        if tag not in a or tag not in b:
            out.append(f"{path}{tag} only in {'first' if tag in a else 'second'}")
            continue
        ea, eb = a[tag], b[tag]
        if ea.VR == "SQ" or eb.VR == "SQ":
            if len(ea.value) != len(eb.value):
                out.append(f"{path}{tag} items {len(ea.value)} vs {len(eb.value)}")
                continue
            for i, (ia, ib) in enumerate(zip(ea.value, eb.value)):
                out.extend(differences(ia, ib, f"{path}{tag}[{i}].", swap))
            continue
        va, vb = ea.value, eb.value
        if isinstance(va, bytes) and isinstance(vb, bytes):
            # pydicom keeps binary values in the file's byte order; compare Big Endian input word by word.
            if swap and ea.VR in SWAP_SIZE:
                va = swapped(va, SWAP_SIZE[ea.VR])
            # Padding to even length is the writer's duty; compare without one trailing pad byte.
            if va.rstrip(b"\0 ") != vb.rstrip(b"\0 ") and va != vb:
                out.append(f"{path}{tag} bytes differ ({len(va)} vs {len(vb)})")
        elif str(va) != str(vb):
            out.append(f"{path}{tag} {ea.keyword}: {va!r} vs {vb!r}")
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    try:
        a = pydicom.dcmread(sys.argv[1])
        b = pydicom.dcmread(sys.argv[2])
    except Exception as exc:  # noqa: BLE001 - report any reader failure as "unreadable"
        print(f"unreadable: {exc}")
        return 2
    diffs = differences(a, b, swap=a.is_little_endian != b.is_little_endian)
    for d in diffs[:50]:
        print(d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
