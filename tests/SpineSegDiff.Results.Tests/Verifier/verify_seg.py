#!/usr/bin/python3
"""Independent check of a DICOM SEG (BINARY or FRACTIONAL) against its source series and the expected label map.

Written against pydicom only (no numpy, no code shared with the C# writer), so that a mistake in our toolkit
cannot hide itself. For every frame it checks that the referenced segment exists, the referenced source image
is in the source series (same SOP class), the frame's plane position and orientation equal that image's, and
the frame's pixels equal the expected mask: BINARY bits unpacked here LSB first from one contiguous bit stream
across frames, FRACTIONAL bytes one per pixel.
It also checks that every (segment, slice) with expected pixels has exactly one frame, so a SEG that silently
drops frames fails too.

usage: verify_seg.py SEG LABELS.raw LABEL_FOR_SEGMENTS SOURCE_FILE...
  LABELS.raw          uint8, slices x rows x columns, slices sorted along the slice normal; slices the SEG does
                      not cover must be all zero. BINARY: a label map. FRACTIONAL: the expected stored values.
  LABEL_FOR_SEGMENTS  BINARY: e.g. "1=1,2=2,3=3" (segment number = label value); FRACTIONAL: "1=*" (segment 1's
                      stored values are LABELS.raw itself)
Prints "OK ..." and exits 0, or prints one "FAIL: ..." line per problem and exits 1.
"""
import sys

import pydicom

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
POSITION_TOLERANCE = 1e-3
ORIENTATION_TOLERANCE = 1e-4
# label value -> table turning a label byte into b"1" where it equals the value, b"0" elsewhere
MASK_TABLES = {v: bytes(0x31 if b == v else 0x30 for b in range(256)) for v in range(256)}


def first_item(dataset, keyword):
    sequence = getattr(dataset, keyword, None)
    return sequence[0] if sequence else None


def functional_group(seg, frame_index, keyword):
    """Per-frame item first, shared item otherwise (PS3.3 C.7.6.16)."""
    per_frame = seg.PerFrameFunctionalGroupsSequence[frame_index]
    item = first_item(per_frame, keyword)
    if item is None and "SharedFunctionalGroupsSequence" in seg:
        item = first_item(seg.SharedFunctionalGroupsSequence[0], keyword)
    return item


def close(a, b, tolerance):
    return len(a) == len(b) and all(abs(float(x) - float(y)) <= tolerance for x, y in zip(a, b))


def cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def main(argv):
    seg_path, labels_path, mapping = argv[1], argv[2], argv[3]
    source_paths = argv[4:]
    failures = []
    seg = pydicom.dcmread(seg_path)
    sources = [pydicom.dcmread(p, stop_before_pixels=True) for p in source_paths]

    if seg.SOPClassUID != SEGMENTATION_STORAGE:
        failures.append("SOP Class %s is not Segmentation Storage" % seg.SOPClassUID)
    fractional = seg.SegmentationType == "FRACTIONAL"
    if fractional:
        if seg.BitsAllocated != 8 or seg.BitsStored != 8 or seg.HighBit != 7:
            failures.append("not an 8-bit FRACTIONAL SEG")
        if seg.SegmentationFractionalType not in ("PROBABILITY", "OCCUPANCY"):
            failures.append("SegmentationFractionalType %s" % seg.SegmentationFractionalType)
        if not 1 <= int(seg.MaximumFractionalValue) <= 255:
            failures.append("MaximumFractionalValue %s" % seg.MaximumFractionalValue)
    elif seg.SegmentationType != "BINARY" or seg.BitsAllocated != 1 or seg.BitsStored != 1 or seg.HighBit != 0:
        failures.append("not a 1-bit BINARY SEG")
    if seg.Modality != "SEG":
        failures.append("Modality %s" % seg.Modality)
    first = sources[0]
    for keyword in ("StudyInstanceUID", "FrameOfReferenceUID", "PatientID", "PatientName"):
        if str(getattr(seg, keyword, "")) != str(getattr(first, keyword, "")):
            failures.append("%s differs from the source" % keyword)
    if seg.SeriesInstanceUID == first.SeriesInstanceUID:
        failures.append("the SEG reuses the source SeriesInstanceUID")
    referenced_series = [item.SeriesInstanceUID for item in getattr(seg, "ReferencedSeriesSequence", [])]
    if first.SeriesInstanceUID not in referenced_series:
        failures.append("ReferencedSeriesSequence does not name the source series")

    # Slice order of the label map: source images sorted along the normal of their plane.
    iop = [float(v) for v in first.ImageOrientationPatient]
    normal = cross(iop[:3], iop[3:])
    ordered = sorted(sources, key=lambda d: sum(float(p) * n for p, n in zip(d.ImagePositionPatient, normal)))
    slice_of = {d.SOPInstanceUID: k for k, d in enumerate(ordered)}
    by_uid = {d.SOPInstanceUID: d for d in sources}

    rows, columns = int(seg.Rows), int(seg.Columns)
    plane = rows * columns
    with open(labels_path, "rb") as f:
        labels = f.read()
    if len(labels) != plane * len(sources):
        failures.append("label map has %d bytes, expected %d" % (len(labels), plane * len(sources)))
        return report(failures, 0)
    label_of_segment = {int(a): (b if b == "*" else int(b)) for a, b in (pair.split("=") for pair in mapping.split(","))}
    if any((label == "*") != fractional for label in label_of_segment.values()):
        failures.append('mapping %s does not suit a %s SEG ("*" is for FRACTIONAL only)' % (mapping, seg.SegmentationType))
        return report(failures, 0)

    segment_numbers = {int(item.SegmentNumber) for item in seg.SegmentSequence}
    if sorted(segment_numbers) != list(range(1, len(segment_numbers) + 1)):
        failures.append("segment numbers %s are not 1..n" % sorted(segment_numbers))

    frames = int(seg.NumberOfFrames)
    pixel_data = seg.PixelData
    needed = frames * plane if fractional else (frames * plane + 7) // 8
    if len(pixel_data) not in (needed, needed + 1) or len(pixel_data) % 2:
        failures.append("PixelData has %d bytes, %d frames of %dx%d need %d (+1 padding to even)"
                        % (len(pixel_data), frames, rows, columns, needed))
        return report(failures, frames)
    if len(seg.PerFrameFunctionalGroupsSequence) != frames:
        failures.append("%d per-frame items for %d frames" % (len(seg.PerFrameFunctionalGroupsSequence), frames))
        return report(failures, frames)

    stream = int.from_bytes(pixel_data, "little")
    seen = {}
    for f in range(frames):
        where = "frame %d" % (f + 1)
        identification = functional_group(seg, f, "SegmentIdentificationSequence")
        segment = int(identification.ReferencedSegmentNumber) if identification is not None else None
        if segment not in segment_numbers:
            failures.append("%s: referenced segment %s is not in the Segment Sequence" % (where, segment))
            continue
        derivation = functional_group(seg, f, "DerivationImageSequence")
        source_item = first_item(derivation, "SourceImageSequence") if derivation is not None else None
        uid = source_item.ReferencedSOPInstanceUID if source_item is not None else None
        if uid not in by_uid:
            failures.append("%s: referenced source image %s is not in the source series" % (where, uid))
            continue
        source = by_uid[uid]
        if source_item.ReferencedSOPClassUID != source.SOPClassUID:
            failures.append("%s: referenced SOP class %s, the source is %s" % (where, source_item.ReferencedSOPClassUID, source.SOPClassUID))
        purpose = first_item(source_item, "PurposeOfReferenceCodeSequence")
        if purpose is None or (purpose.CodeValue, purpose.CodingSchemeDesignator) != ("121322", "DCM"):
            failures.append("%s: purpose of reference is not (121322, DCM)" % where)
        position = functional_group(seg, f, "PlanePositionSequence")
        if position is None or not close(position.ImagePositionPatient, source.ImagePositionPatient, POSITION_TOLERANCE):
            failures.append("%s: ImagePositionPatient %s differs from its source image's %s"
                            % (where, None if position is None else list(position.ImagePositionPatient), list(source.ImagePositionPatient)))
        orientation = functional_group(seg, f, "PlaneOrientationSequence")
        if orientation is None or not close(orientation.ImageOrientationPatient, source.ImageOrientationPatient, ORIENTATION_TOLERANCE):
            failures.append("%s: ImageOrientationPatient differs from its source image's" % where)
        measures = functional_group(seg, f, "PixelMeasuresSequence")
        if measures is None or not close(measures.PixelSpacing, source.PixelSpacing, 1e-6):
            failures.append("%s: PixelSpacing differs from its source image's" % where)

        k = slice_of[uid]
        key = (segment, k)
        if key in seen:
            failures.append("%s: segment %d on slice %d already had frame %d" % (where, segment, k, seen[key]))
        seen[key] = f + 1
        label = label_of_segment[segment]
        if fractional:
            actual = pixel_data[f * plane:(f + 1) * plane]
            expected = labels[k * plane:(k + 1) * plane]
            if actual != expected:
                differing = [p for p in range(plane) if actual[p] != expected[p]]
                p = differing[0]
                failures.append("%s: %d pixels differ from the expected values of segment %d on slice %d (first at row %d, column %d)"
                                % (where, len(differing), segment, k, p // columns, p % columns))
            continue
        # Bit p of frame f is bit (f * plane + p) of the stream read as one little-endian integer: byte n holds
        # stream bits 8n..8n+7 with the first in its least significant bit, which is the PS3.5 8.1.1 order.
        frame_bits = (stream >> (f * plane)) & ((1 << plane) - 1)
        actual = format(frame_bits, "0%db" % plane)[::-1].encode("ascii")
        expected = labels[k * plane:(k + 1) * plane].translate(MASK_TABLES[label])
        if actual != expected:
            differing = [p for p in range(plane) if actual[p] != expected[p]]
            p = differing[0]
            failures.append("%s: %d pixels differ from the expected mask of segment %d on slice %d (first at row %d, column %d)"
                            % (where, len(differing), segment, k, p // columns, p % columns))

    for segment, label in label_of_segment.items():
        for k in range(len(sources)):
            expected = labels[k * plane:(k + 1) * plane]
            has_pixels = any(expected) if label == "*" else label in expected
            if (segment, k) not in seen and has_pixels:
                failures.append("segment %d has pixels on slice %d but no frame" % (segment, k))
    return report(failures, frames)


def report(failures, frames):
    if failures:
        for failure in failures[:50]:
            print("FAIL: " + failure)
        if len(failures) > 50:
            print("FAIL: ... and %d more" % (len(failures) - 50))
        return 1
    print("OK %d frames" % frames)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
