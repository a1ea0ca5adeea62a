#!/usr/bin/env node
// Independent check of a DICOM SEG (BINARY or FRACTIONAL) against its source series and the expected mask, read
// with dcmjs: the JavaScript DICOM library OHIF itself uses, sharing no code with our C# writer or with the
// pydicom verifier (tests/SpineSegDiff.Results.Tests/Verifier/verify_seg.py, whose interface this mirrors).
//
// For every frame: the referenced segment exists; the referenced source image is in the source series (same SOP
// class, purpose of reference DCM 121322); the frame's plane position, orientation and pixel spacing equal that
// image's; and its pixels equal the expected mask. BINARY frames are unpacked here from one contiguous bit
// stream across all frames, first pixel in the least significant bit (PS3.5 8.1.1, no padding between frames);
// FRACTIONAL frames are one byte per pixel. Every (segment, slice) with expected pixels must have exactly one
// frame, so a SEG that silently drops frames fails too.
//
// usage: node verify_seg.mjs SEG LABELS.raw LABEL_FOR_SEGMENTS SOURCE_FILE...
//   LABELS.raw          uint8, slices x rows x columns, slices sorted along the slice normal; slices the SEG does
//                       not cover must be all zero. BINARY: a label map. FRACTIONAL: the expected stored values.
//   LABEL_FOR_SEGMENTS  BINARY: e.g. "1=1,2=2,3=3" (segment number = label value); FRACTIONAL: "1=*"
//                       (segment 1's stored values are LABELS.raw itself)
// Prints "OK <n> frames" and exits 0, or one "FAIL: ..." line per problem and exits 1; 2 on a usage error.
import fs from "node:fs";
import dcmjs from "dcmjs";

const SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4";
const POSITION_TOLERANCE = 1e-3;
const ORIENTATION_TOLERANCE = 1e-4;

// Keep dcmjs quiet about tags it does not know: its warnings would mix with our report on stdout.
dcmjs.log?.setLevel?.("error");

function read(path, withPixels) {
  const bytes = fs.readFileSync(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const options = withPixels ? {} : { untilTag: "7FE00010", includeUntilTagValue: false };
  const file = dcmjs.data.DicomMessage.readFile(buffer, options);
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict);
}

// dcmjs gives a sequence as an array of items, but a single item may come back as a bare object.
function items(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function firstItem(dataset, keyword) {
  return dataset ? items(dataset[keyword])[0] : undefined;
}

// Per-frame item first, shared item otherwise (PS3.3 C.7.6.16).
function functionalGroup(seg, frame, keyword) {
  const perFrame = items(seg.PerFrameFunctionalGroupsSequence)[frame];
  return firstItem(perFrame, keyword) ?? firstItem(items(seg.SharedFunctionalGroupsSequence)[0], keyword);
}

function numbers(value) {
  return items(value).map(Number);
}

function close(a, b, tolerance) {
  const x = numbers(a), y = numbers(b);
  return x.length > 0 && x.length === y.length && x.every((v, i) => Math.abs(v - y[i]) <= tolerance);
}

function cross(a, b) {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function pixelBytes(seg) {
  // Native (uncompressed) Pixel Data: dcmjs hands back one ArrayBuffer holding every frame.
  const parts = items(seg.PixelData).map((part) => new Uint8Array(part));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

function personName(value) {
  const first = items(value)[0];
  return typeof first === "object" && first !== null ? first.Alphabetic ?? "" : String(first ?? "");
}

function main(argv) {
  if (argv.length < 4) {
    console.log("usage: node verify_seg.mjs SEG LABELS.raw LABEL_FOR_SEGMENTS SOURCE_FILE...");
    return 2;
  }
  const [segPath, labelsPath, mapping, ...sourcePaths] = argv;
  const failures = [];
  const seg = read(segPath, true);
  const sources = sourcePaths.map((p) => read(p, false));

  if (seg.SOPClassUID !== SEGMENTATION_STORAGE) failures.push(`SOP Class ${seg.SOPClassUID} is not Segmentation Storage`);
  if (seg.Modality !== "SEG") failures.push(`Modality ${seg.Modality}`);
  const fractional = seg.SegmentationType === "FRACTIONAL";
  if (fractional) {
    if (seg.BitsAllocated !== 8 || seg.BitsStored !== 8 || seg.HighBit !== 7) failures.push("not an 8-bit FRACTIONAL SEG");
    if (!["PROBABILITY", "OCCUPANCY"].includes(seg.SegmentationFractionalType)) failures.push(`SegmentationFractionalType ${seg.SegmentationFractionalType}`);
    if (!(seg.MaximumFractionalValue >= 1 && seg.MaximumFractionalValue <= 255)) failures.push(`MaximumFractionalValue ${seg.MaximumFractionalValue}`);
  } else if (seg.SegmentationType !== "BINARY" || seg.BitsAllocated !== 1 || seg.BitsStored !== 1 || seg.HighBit !== 0) {
    failures.push("not a 1-bit BINARY SEG");
  }
  const first = sources[0];
  for (const keyword of ["StudyInstanceUID", "FrameOfReferenceUID", "PatientID"]) {
    if (String(seg[keyword] ?? "") !== String(first[keyword] ?? "")) failures.push(`${keyword} differs from the source`);
  }
  if (personName(seg.PatientName) !== personName(first.PatientName)) failures.push("PatientName differs from the source");
  if (seg.SeriesInstanceUID === first.SeriesInstanceUID) failures.push("the SEG reuses the source SeriesInstanceUID");
  const referencedSeries = items(seg.ReferencedSeriesSequence).map((item) => item.SeriesInstanceUID);
  if (!referencedSeries.includes(first.SeriesInstanceUID)) failures.push("ReferencedSeriesSequence does not name the source series");

  // Slice order of the expected mask: source images sorted along the normal of their plane.
  const iop = numbers(first.ImageOrientationPatient);
  const normal = cross(iop.slice(0, 3), iop.slice(3));
  const along = (d) => numbers(d.ImagePositionPatient).reduce((s, p, i) => s + p * normal[i], 0);
  const ordered = [...sources].sort((a, b) => along(a) - along(b));
  const sliceOf = new Map(ordered.map((d, k) => [d.SOPInstanceUID, k]));
  const byUid = new Map(sources.map((d) => [d.SOPInstanceUID, d]));

  const rows = Number(seg.Rows), columns = Number(seg.Columns);
  const plane = rows * columns;
  const labels = fs.readFileSync(labelsPath);
  if (labels.length !== plane * sources.length) {
    failures.push(`expected mask has ${labels.length} bytes, expected ${plane * sources.length}`);
    return report(failures, 0);
  }
  const labelOfSegment = new Map(mapping.split(",").map((pair) => {
    const [segment, label] = pair.split("=");
    return [Number(segment), label === "*" ? "*" : Number(label)];
  }));
  if ([...labelOfSegment.values()].some((l) => (l === "*") !== fractional)) {
    failures.push(`mapping ${mapping} does not suit a ${seg.SegmentationType} SEG ("*" is for FRACTIONAL only)`);
    return report(failures, 0);
  }

  const segmentNumbers = new Set(items(seg.SegmentSequence).map((item) => Number(item.SegmentNumber)));
  const sorted = [...segmentNumbers].sort((a, b) => a - b);
  if (!sorted.every((n, i) => n === i + 1)) failures.push(`segment numbers ${sorted} are not 1..n`);

  const frames = Number(seg.NumberOfFrames);
  const pixels = pixelBytes(seg);
  const needed = fractional ? frames * plane : Math.ceil((frames * plane) / 8);
  if ((pixels.length !== needed && pixels.length !== needed + 1) || pixels.length % 2 !== 0) {
    failures.push(`PixelData has ${pixels.length} bytes, ${frames} frames of ${rows}x${columns} need ${needed} (+1 padding to even)`);
    return report(failures, frames);
  }
  const perFrame = items(seg.PerFrameFunctionalGroupsSequence);
  if (perFrame.length !== frames) {
    failures.push(`${perFrame.length} per-frame items for ${frames} frames`);
    return report(failures, frames);
  }

  const seen = new Map();
  for (let f = 0; f < frames; f++) {
    const where = `frame ${f + 1}`;
    const identification = functionalGroup(seg, f, "SegmentIdentificationSequence");
    const segment = identification ? Number(identification.ReferencedSegmentNumber) : undefined;
    if (!segmentNumbers.has(segment)) {
      failures.push(`${where}: referenced segment ${segment} is not in the Segment Sequence`);
      continue;
    }
    const derivation = functionalGroup(seg, f, "DerivationImageSequence");
    const sourceItem = firstItem(derivation, "SourceImageSequence");
    const uid = sourceItem?.ReferencedSOPInstanceUID;
    if (!byUid.has(uid)) {
      failures.push(`${where}: referenced source image ${uid} is not in the source series`);
      continue;
    }
    const source = byUid.get(uid);
    if (sourceItem.ReferencedSOPClassUID !== source.SOPClassUID) {
      failures.push(`${where}: referenced SOP class ${sourceItem.ReferencedSOPClassUID}, the source is ${source.SOPClassUID}`);
    }
    const purpose = firstItem(sourceItem, "PurposeOfReferenceCodeSequence");
    if (!purpose || purpose.CodeValue !== "121322" || purpose.CodingSchemeDesignator !== "DCM") {
      failures.push(`${where}: purpose of reference is not (121322, DCM)`);
    }
    const position = functionalGroup(seg, f, "PlanePositionSequence");
    if (!position || !close(position.ImagePositionPatient, source.ImagePositionPatient, POSITION_TOLERANCE)) {
      failures.push(`${where}: ImagePositionPatient ${position ? numbers(position.ImagePositionPatient) : "none"} differs from its source image's ${numbers(source.ImagePositionPatient)}`);
    }
    const orientation = functionalGroup(seg, f, "PlaneOrientationSequence");
    if (!orientation || !close(orientation.ImageOrientationPatient, source.ImageOrientationPatient, ORIENTATION_TOLERANCE)) {
      failures.push(`${where}: ImageOrientationPatient differs from its source image's`);
    }
    const measures = functionalGroup(seg, f, "PixelMeasuresSequence");
    if (!measures || !close(measures.PixelSpacing, source.PixelSpacing, 1e-6)) {
      failures.push(`${where}: PixelSpacing differs from its source image's`);
    }

    const k = sliceOf.get(uid);
    const key = `${segment}/${k}`;
    if (seen.has(key)) failures.push(`${where}: segment ${segment} on slice ${k} already had frame ${seen.get(key)}`);
    seen.set(key, f + 1);
    const label = labelOfSegment.get(segment);
    const expected = labels.subarray(k * plane, (k + 1) * plane);
    let differing = 0, firstAt = -1;
    for (let p = 0; p < plane; p++) {
      let actual, want;
      if (fractional) {
        actual = pixels[f * plane + p];
        want = expected[p];
      } else {
        // Bit n of the stream is bit (n % 8), counted from the least significant, of byte floor(n / 8).
        const n = f * plane + p;
        actual = (pixels[n >>> 3] >>> (n & 7)) & 1;
        want = expected[p] === label ? 1 : 0;
      }
      if (actual !== want) {
        differing++;
        if (firstAt < 0) firstAt = p;
      }
    }
    if (differing > 0) {
      failures.push(`${where}: ${differing} pixels differ from the expected ${fractional ? "values" : "mask"} of segment ${segment} on slice ${k} (first at row ${Math.floor(firstAt / columns)}, column ${firstAt % columns})`);
    }
  }

  for (const [segment, label] of labelOfSegment) {
    for (let k = 0; k < sources.length; k++) {
      const slice = labels.subarray(k * plane, (k + 1) * plane);
      const has = label === "*" ? slice.some((v) => v !== 0) : slice.includes(label);
      if (!seen.has(`${segment}/${k}`) && has) failures.push(`segment ${segment} has pixels on slice ${k} but no frame`);
    }
  }
  return report(failures, frames);
}

function report(failures, frames) {
  if (failures.length > 0) {
    for (const failure of failures.slice(0, 50)) console.log(`FAIL: ${failure}`);
    if (failures.length > 50) console.log(`FAIL: ... and ${failures.length - 50} more`);
    return 1;
  }
  console.log(`OK ${frames} frames`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
