#!/usr/bin/python3
"""Independent DICOM test-input generator for the integration tests.

The files are written by pydicom, never by SpineSegDiff.Dicom, so that a bug
in our own encoder cannot hide a matching bug in our decoder.  Run it with
Debian's system python (/usr/bin/python3), which carries python3-pydicom; the
pyenv python first on PATH does not.  numpy is deliberately not used: pixel
bytes are built with array/struct so the script only needs pydicom.

  make-fixtures.py OUTDIR corpus
  make-fixtures.py OUTDIR series --count N --rows R --cols C
                   [--ts implicit|explicit|deflated|big] [--study-uid U]
                   [--series-uid U] [--seed S] [--patient-id ID]
                   [--patient-name NAME]

Both modes write OUTDIR/manifest.json describing every file written.
Output is deterministic for the same arguments (fixed dates, seeded noise,
UIDs derived from a fixed root), so failures reproduce byte for byte.
"""

import argparse
import json
import os
import random
import sys
import time
from array import array

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    UID,
)

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
UID_ROOT = "1.2.826.0.1.3680043.10.1234."
PRIVATE_GROUP = 0x0029
PRIVATE_CREATOR = "SPINESEG TEST"

TRANSFER_SYNTAXES = {
    "implicit": ImplicitVRLittleEndian,
    "explicit": ExplicitVRLittleEndian,
    "deflated": DeflatedExplicitVRLittleEndian,
    "big": ExplicitVRBigEndian,
}

TS_NAMES = {
    ImplicitVRLittleEndian: "ImplicitVRLittleEndian",
    ExplicitVRLittleEndian: "ExplicitVRLittleEndian",
    DeflatedExplicitVRLittleEndian: "DeflatedExplicitVRLittleEndian",
    ExplicitVRBigEndian: "ExplicitVRBigEndian",
}

# Vertebral body / disc layout as fractions of the image height, so the
# phantom scales to any matrix size.  Values stay below 4096 (12 bits stored).
_VERTEBRA_COUNT = 5
_BITS_STORED = 12


def _check_uid(uid):
    if len(uid) > 64:
        raise SystemExit(f"UID longer than 64 characters: {uid}")
    return uid


def _slice_step(slice_count):
    # Keep very long load-test stacks within a plausible ~25 cm extent.
    return 4.4 if slice_count <= 55 else 240.0 / slice_count


def phantom_pixels(rows, cols, seed):
    """Sagittal T2-like lumbar phantom: noise background, a column of
    vertebral bodies with darker discs, bright CSF canal behind them."""
    rnd = random.Random(seed)
    noise = rnd.randbytes(rows * cols)
    px = array("H", bytes(2 * rows * cols))
    body_x0, body_x1 = int(cols * 0.30), int(cols * 0.55)
    canal_x0, canal_x1 = int(cols * 0.60), int(cols * 0.68)
    cord_x0, cord_x1 = int(cols * 0.62), int(cols * 0.66)
    period = rows / _VERTEBRA_COUNT
    for r in range(rows):
        in_disc = (r % period) > period * 0.78
        base = r * cols
        for c in range(cols):
            n = noise[base + c]
            if body_x0 <= c < body_x1:
                v = (700 if in_disc else 1500) + n * 2
            elif cord_x0 <= c < cord_x1:
                v = 900 + n
            elif canal_x0 <= c < canal_x1:
                v = 3000 + n * 2
            elif c < body_x0 and c > cols * 0.10:
                v = 400 + n  # abdominal soft tissue
            elif c >= canal_x1 and c < cols * 0.90:
                v = 600 + n  # paraspinal muscle
            else:
                v = n >> 2  # air / background
            px[base + c] = v
    return px


def instance_pixels(base_le, index):
    """Per-instance variation without per-pixel loops: rotate the phantom by
    `index` pixels (a cheap slice shift) and stamp the instance number into
    the first pixel, so every instance's pixel data differs."""
    n = len(base_le) // 2
    k = (index % n) * 2
    data = base_le[k:] + base_le[:k]
    return (index % (1 << _BITS_STORED)).to_bytes(2, "little") + data[2:]


def to_big_endian(le_bytes):
    a = array("H")
    a.frombytes(le_bytes)
    if sys.byteorder == "little":
        a.byteswap()
    return a.tobytes()


def make_dataset(
    *,
    ts,
    study_uid,
    series_uid,
    sop_uid,
    for_uid,
    patient_name,
    patient_id,
    rows,
    cols,
    pixel_le,
    instance_number,
    slice_index,
    slice_count,
    charset=None,
    institution="SPINESEG TEST HOSPITAL",
    referring="REFERRER^RITA",
    accession="ACC0001",
    study_id="1",
    series_number=2,
):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ts

    ds = Dataset()
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128
    ds.is_little_endian = ts != ExplicitVRBigEndian
    ds.is_implicit_VR = ts == ImplicitVRLittleEndian

    # Setting the character set first makes pydicom encode every later text
    # value with it when writing.
    if charset is not None:
        ds.SpecificCharacterSet = charset
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.InstanceCreationDate = "20240315"
    ds.InstanceCreationTime = "101530"
    ds.SOPClassUID = MR_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240315"
    ds.StudyTime = "100000"
    ds.SeriesTime = "100512"
    ds.AcquisitionTime = ds.ContentTime = "100530.%06d" % (instance_number * 1000)
    ds.AccessionNumber = accession
    ds.Modality = "MR"
    ds.Manufacturer = "SpineSegDiff Fixtures"
    ds.InstitutionName = institution
    ds.ReferringPhysicianName = referring
    ds.StationName = "MRFIX01"
    # 11 characters: an odd-length LO that the writer pads with a space.
    ds.StudyDescription = "L-SPINE MRI"
    ds.SeriesDescription = "SAG T2 TSE"
    ds.ManufacturerModelName = "FixtureScanner 3T"
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.PatientAge = "054Y"
    ds.PatientWeight = "72.5"
    ds.BodyPartExamined = "LSPINE"
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = ["SK", "SP"]
    ds.ScanOptions = "PFP"
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = "*tse2d1_17"
    ds.AngioFlag = "N"
    ds.SliceThickness = "4"
    ds.RepetitionTime = "3500"
    ds.EchoTime = "95"
    ds.NumberOfAverages = "2"
    ds.ImagingFrequency = "123.2"
    ds.ImagedNucleus = "1H"
    ds.EchoNumbers = "1"
    ds.MagneticFieldStrength = "3"
    ds.SpacingBetweenSlices = "%.4f" % _slice_step(slice_count)
    ds.EchoTrainLength = "17"
    ds.PercentSampling = "100"
    ds.PercentPhaseFieldOfView = "100"
    ds.PixelBandwidth = "260"
    ds.SoftwareVersions = "make-fixtures pydicom " + pydicom.__version__
    ds.ProtocolName = "t2_tse_sag"
    ds.FlipAngle = "150"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = study_id
    ds.SeriesNumber = str(series_number)
    ds.AcquisitionNumber = "1"
    ds.InstanceNumber = str(instance_number)

    # Sagittal stack: rows run anterior->posterior (+y), columns head->feet
    # (-z); slices step along patient x (right->left).
    spacing_mm = 300.0 / max(rows, cols)
    step = _slice_step(slice_count)
    x = -((slice_count - 1) / 2.0) * step + slice_index * step
    ds.ImagePositionPatient = ["%.4f" % x, "%.4f" % (-cols * spacing_mm / 2), "%.4f" % (rows * spacing_mm / 2)]
    ds.ImageOrientationPatient = ["0", "1", "0", "0", "0", "-1"]
    ds.FrameOfReferenceUID = for_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = "%.4f" % x

    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.PixelSpacing = ["%.6f" % spacing_mm, "%.6f" % spacing_mm]
    ds.BitsAllocated = 16
    ds.BitsStored = _BITS_STORED
    ds.HighBit = _BITS_STORED - 1
    ds.PixelRepresentation = 0
    ds.WindowCenter = "1600"
    ds.WindowWidth = "3200"
    # pydicom writes OW bytes verbatim (no byte swapping), so big endian
    # files need big endian pixel bytes from us.
    ds.PixelData = to_big_endian(pixel_le) if ts == ExplicitVRBigEndian else pixel_le
    ds["PixelData"].VR = "OW"
    return ds


def add_nested_and_private(ds, ref_uids):
    """Nested sequences, a private block and odd-length values."""
    purpose = Dataset()
    purpose.CodeValue = "121311"
    purpose.CodingSchemeDesignator = "DCM"
    purpose.CodeMeaning = "Localizer"

    item1 = Dataset()
    item1.ReferencedSOPClassUID = MR_IMAGE_STORAGE
    item1.ReferencedSOPInstanceUID = ref_uids[0]
    # Item that itself holds a sequence: two levels of nesting.
    item1.PurposeOfReferenceCodeSequence = Sequence([purpose])

    item2 = Dataset()
    item2.ReferencedSOPClassUID = MR_IMAGE_STORAGE
    item2.ReferencedSOPInstanceUID = ref_uids[1]
    ds.ReferencedImageSequence = Sequence([item1, item2])
    # pydicom writes defined lengths unless told otherwise; real scanners
    # often use delimiters, so the outer sequence and its items use undefined
    # length while the inner and private sequences keep defined lengths.
    ds["ReferencedImageSequence"].is_undefined_length = True
    item1.is_undefined_length_sequence_item = True
    item2.is_undefined_length_sequence_item = True

    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "OB", b"\x01\x02\x03")  # odd length 3, padded to 4
    block.add_new(0x11, "LO", "odd")  # odd length LO, padded with a space
    block.add_new(0x12, "US", 42)
    block.add_new(0x13, "DS", ["1.5", "-2.25"])
    private_item = Dataset()
    private_item.add_new(0x00100020, "LO", "NESTED-IN-PRIVATE")
    block.add_new(0x14, "SQ", Sequence([private_item]))


def write(ds, path):
    # write_like_original=False: let pydicom build a complete, conformant
    # File Meta group (version, group length, implementation UID).
    dcmwrite(path, ds, write_like_original=False)


def corpus(outdir):
    os.makedirs(outdir, exist_ok=True)
    small = 64
    base_small = phantom_pixels(small, small, seed=1234).tobytes()
    base_large = phantom_pixels(256, 256, seed=5678).tobytes()

    specs = [
        # name, ts, charset, patient name, features, extra
        ("mr_implicit_le.dcm", ImplicitVRLittleEndian, None, "DOE^JOHN",
         ["implicit-vr", "no-specific-character-set"], {}),
        ("mr_explicit_le.dcm", ExplicitVRLittleEndian, None, "SMITH^JANE",
         ["explicit-vr", "no-specific-character-set"], {}),
        ("mr_explicit_le_nested_private.dcm", ExplicitVRLittleEndian, None, "NESTED^EXPLICIT",
         ["explicit-vr", "no-specific-character-set", "nested-sequences", "private-tags",
          "odd-length-values"], {"nested": True}),
        ("mr_implicit_le_nested_private.dcm", ImplicitVRLittleEndian, None, "NESTED^IMPLICIT",
         ["implicit-vr", "no-specific-character-set", "nested-sequences", "private-tags",
          "odd-length-values"], {"nested": True}),
        ("mr_utf8_latin.dcm", ExplicitVRLittleEndian, "ISO_IR 192", "Müller^Zoë",
         ["explicit-vr", "utf8", "non-ascii-patient-name"],
         {"institution": "Universitätsklinik Süd"}),
        ("mr_utf8_cjk.dcm", ExplicitVRLittleEndian, "ISO_IR 192", "山田^太郎",
         ["explicit-vr", "utf8", "non-ascii-patient-name", "cjk", "pn-component-groups"],
         {"referring": "Sato^Hanako=佐藤^花子=さとう^はなこ", "institution": "東京脊椎病院"}),
        ("mr_latin1.dcm", ExplicitVRLittleEndian, "ISO_IR 100", "Müller^Jürgen",
         ["explicit-vr", "latin1", "non-ascii-patient-name"],
         {"institution": "Universitätsklinik Süd"}),
        ("mr_deflated_le.dcm", DeflatedExplicitVRLittleEndian, None, "DEFLATE^DORA",
         ["deflated", "explicit-vr", "no-specific-character-set", "nested-sequences",
          "private-tags", "odd-length-values"], {"nested": True}),
        ("mr_explicit_be.dcm", ExplicitVRBigEndian, None, "BIGENDIAN^BERT",
         ["big-endian", "explicit-vr", "no-specific-character-set", "nested-sequences",
          "private-tags", "odd-length-values"], {"nested": True}),
        # Pixel data (128 KiB) larger than common max PDU sizes, so sending it
        # exercises P-DATA fragmentation.
        ("mr_explicit_le_256.dcm", ExplicitVRLittleEndian, None, "LARGE^LARRY",
         ["explicit-vr", "no-specific-character-set", "large-pixel-data"], {"large": True}),
    ]

    entries = []
    for i, (name, ts, charset, pname, features, extra) in enumerate(specs, start=1):
        study_uid = _check_uid(f"{UID_ROOT}1.{i}")
        series_uid = _check_uid(f"{UID_ROOT}1.{i}.1")
        sop_uid = _check_uid(f"{UID_ROOT}1.{i}.1.1")
        for_uid = _check_uid(f"{UID_ROOT}1.{i}.9")
        size = 256 if extra.get("large") else small
        pixels = base_large if extra.get("large") else base_small
        pid = "SSD-C%03d" % i
        ds = make_dataset(
            ts=ts, study_uid=study_uid, series_uid=series_uid, sop_uid=sop_uid,
            for_uid=for_uid, patient_name=pname, patient_id=pid, rows=size, cols=size,
            pixel_le=instance_pixels(pixels, i), instance_number=1, slice_index=0,
            slice_count=1, charset=charset,
            institution=extra.get("institution", "SPINESEG TEST HOSPITAL"),
            referring=extra.get("referring", "REFERRER^RITA"),
            accession="ACC%04d" % i, study_id=str(i),
        )
        if extra.get("nested"):
            add_nested_and_private(ds, [f"{UID_ROOT}1.{i}.2.1", f"{UID_ROOT}1.{i}.2.2"])
            features = features + ["undefined-length-sequence"]
        path = os.path.join(outdir, name)
        write(ds, path)
        entries.append({
            "file": name,
            "sopClassUid": MR_IMAGE_STORAGE,
            "sopInstanceUid": sop_uid,
            "studyInstanceUid": study_uid,
            "seriesInstanceUid": series_uid,
            "patientId": pid,
            "patientName": pname,
            "transferSyntaxUid": str(ts),
            "transferSyntax": TS_NAMES[ts],
            "specificCharacterSet": charset,
            "rows": size,
            "columns": size,
            "features": features,
            "writtenBy": "pydicom " + pydicom.__version__,
            "sizeBytes": os.path.getsize(path),
        })
    _write_manifest(outdir, "corpus", entries)
    return entries


def series(outdir, count, rows, cols, ts_name, study_uid, series_uid, seed,
           patient_id, patient_name):
    if count < 1 or rows < 1 or cols < 1:
        raise SystemExit("count, rows and cols must be positive")
    os.makedirs(outdir, exist_ok=True)
    ts = TRANSFER_SYNTAXES[ts_name]
    # Defaults derive from every parameter so that two different series made
    # in one test never share a UID, yet the same call reproduces exactly.
    study_uid = _check_uid(study_uid or f"{UID_ROOT}2.{seed}")
    series_uid = _check_uid(series_uid or f"{UID_ROOT}3.{seed}.{count}.{rows}.{cols}.{list(TRANSFER_SYNTAXES).index(ts_name)}")
    for_uid = _check_uid(f"{UID_ROOT}4.{seed}")
    base = phantom_pixels(rows, cols, seed).tobytes()
    entries = []
    width = len(str(count))
    for i in range(count):
        sop_uid = _check_uid(f"{series_uid}.{i + 1}")
        ds = make_dataset(
            ts=ts, study_uid=study_uid, series_uid=series_uid, sop_uid=sop_uid,
            for_uid=for_uid, patient_name=patient_name, patient_id=patient_id,
            rows=rows, cols=cols, pixel_le=instance_pixels(base, i + 1),
            instance_number=i + 1, slice_index=i, slice_count=count,
            accession="ACCS%d" % seed, study_id="S%d" % seed,
        )
        name = "IM%0*d.dcm" % (width, i + 1)
        write(ds, os.path.join(outdir, name))
        entries.append({
            "file": name,
            "sopClassUid": MR_IMAGE_STORAGE,
            "sopInstanceUid": sop_uid,
            "studyInstanceUid": study_uid,
            "seriesInstanceUid": series_uid,
            "patientId": patient_id,
            "patientName": patient_name,
            "transferSyntaxUid": str(ts),
            "transferSyntax": TS_NAMES[ts],
            "specificCharacterSet": None,
            "rows": rows,
            "columns": cols,
            "instanceNumber": i + 1,
            "features": [],
            "writtenBy": "pydicom " + pydicom.__version__,
        })
    _write_manifest(outdir, "series", entries)
    return entries


def _write_manifest(outdir, mode, entries):
    manifest = {
        "mode": mode,
        "generator": "tools/make-fixtures.py",
        "pydicom": pydicom.__version__,
        "uidRoot": UID_ROOT,
        "files": entries,
    }
    with open(os.path.join(outdir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("outdir")
    sub = p.add_subparsers(dest="mode", required=True)
    sub.add_parser("corpus", help="varied MR files (transfer syntaxes, charsets, sequences, private tags)")
    s = sub.add_parser("series", help="one MR series of N instances")
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--rows", type=int, required=True)
    s.add_argument("--cols", type=int, required=True)
    s.add_argument("--ts", choices=list(TRANSFER_SYNTAXES), default="explicit")
    s.add_argument("--study-uid")
    s.add_argument("--series-uid")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--patient-id", default="SSD-SERIES")
    s.add_argument("--patient-name", default="SERIES^SAM")
    a = p.parse_args(argv)

    started = time.monotonic()
    if a.mode == "corpus":
        entries = corpus(a.outdir)
    else:
        entries = series(a.outdir, a.count, a.rows, a.cols, a.ts, a.study_uid,
                         a.series_uid, a.seed, a.patient_id, a.patient_name)
    print("wrote %d files to %s in %.2fs" % (len(entries), a.outdir, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
