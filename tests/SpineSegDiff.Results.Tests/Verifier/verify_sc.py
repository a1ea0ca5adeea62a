#!/usr/bin/python3
"""Independent check of a Secondary Capture series (one image per covered source slice) against its source series.

Written against pydicom only, like verify_seg.py. For every SC: SC Image Storage, RGB 8-bit pixel-interleaved with
the pixel data its size needs, burned-in annotation declared, the source's patient and study, and a Source Image
Sequence naming an image of the source series. Across the series: one new series (not the source's), distinct
instances, each source image at most once, and Instance Numbers in the source slices' order along their normal,
so a viewer scrolls the SCs in anatomical order.

usage: verify_sc.py SC_FILE... -- SOURCE_FILE...
Prints "OK <n> images" and exits 0, or one "FAIL: ..." line per problem and exits 1; 2 on a usage error.
"""
import sys

import pydicom

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def main(argv):
    if "--" not in argv or argv.index("--") < 2 or argv.index("--") == len(argv) - 1:
        print("usage: verify_sc.py SC_FILE... -- SOURCE_FILE...")
        return 2
    split = argv.index("--")
    scs = [pydicom.dcmread(p) for p in argv[1:split]]
    sources = [pydicom.dcmread(p, stop_before_pixels=True) for p in argv[split + 1:]]
    failures = []
    first = sources[0]
    iop = [float(v) for v in first.ImageOrientationPatient]
    normal = cross(iop[:3], iop[3:])
    ordered = sorted(sources, key=lambda d: sum(float(p) * n for p, n in zip(d.ImagePositionPatient, normal)))
    slice_of = {d.SOPInstanceUID: k for k, d in enumerate(ordered)}
    by_uid = {d.SOPInstanceUID: d for d in sources}

    slices = []
    for sc in scs:
        where = "SC %s" % sc.get("InstanceNumber", "?")
        if sc.SOPClassUID != SECONDARY_CAPTURE:
            failures.append("%s: SOP Class %s is not SC Image Storage" % (where, sc.SOPClassUID))
        if (int(sc.SamplesPerPixel), str(sc.PhotometricInterpretation), int(sc.PlanarConfiguration), int(sc.BitsAllocated)) != (3, "RGB", 0, 8):
            failures.append("%s: not 8-bit pixel-interleaved RGB" % where)
        needed = int(sc.Rows) * int(sc.Columns) * 3
        if len(sc.PixelData) not in (needed, needed + 1) or len(sc.PixelData) % 2:
            failures.append("%s: PixelData has %d bytes, %dx%d RGB needs %d" % (where, len(sc.PixelData), sc.Rows, sc.Columns, needed))
        if str(sc.get("BurnedInAnnotation", "")) != "YES":
            failures.append("%s: BurnedInAnnotation is not YES" % where)
        for keyword in ("StudyInstanceUID", "PatientID", "PatientName"):
            if str(sc.get(keyword, "")) != str(first.get(keyword, "")):
                failures.append("%s: %s differs from the source" % (where, keyword))
        if sc.SeriesInstanceUID == first.SeriesInstanceUID:
            failures.append("%s: reuses the source SeriesInstanceUID" % where)
        reference = sc.SourceImageSequence[0] if "SourceImageSequence" in sc and len(sc.SourceImageSequence) else None
        uid = reference.ReferencedSOPInstanceUID if reference is not None else None
        if uid not in by_uid:
            failures.append("%s: referenced source image %s is not in the source series" % (where, uid))
            continue
        if reference.ReferencedSOPClassUID != by_uid[uid].SOPClassUID:
            failures.append("%s: referenced SOP class %s, the source is %s" % (where, reference.ReferencedSOPClassUID, by_uid[uid].SOPClassUID))
        slices.append((int(sc.InstanceNumber), slice_of[uid], uid))

    if len({sc.SeriesInstanceUID for sc in scs}) != 1:
        failures.append("the SCs are in %d series, not one" % len({sc.SeriesInstanceUID for sc in scs}))
    if len({sc.SOPInstanceUID for sc in scs}) != len(scs):
        failures.append("SOP Instance UIDs repeat")
    if len({uid for _, _, uid in slices}) != len(slices):
        failures.append("a source image has more than one SC")
    by_number = [k for _, k in sorted((n, k) for n, k, _ in slices)]
    if len({n for n, _, _ in slices}) != len(slices) or by_number != sorted(by_number):
        failures.append("Instance Numbers do not follow the source slice order: %s" % sorted((n, k) for n, k, _ in slices))
    if failures:
        for failure in failures[:50]:
            print("FAIL: " + failure)
        return 1
    print("OK %d images" % len(scs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
