#!/usr/bin/env node
// Independent check of a Secondary Capture series (one image per covered source slice) against its source series,
// read with dcmjs; mirrors tests/SpineSegDiff.Results.Tests/Verifier/verify_sc.py check for check. For every SC:
// SC Image Storage, RGB 8-bit pixel-interleaved with the pixel data its size needs, burned-in annotation declared,
// the source's patient and study, a Source Image Sequence naming an image of the source series. Across the series:
// one new series, distinct instances, each source image at most once, Instance Numbers in source slice order.
//
// usage: node verify_sc.mjs SC_FILE... -- SOURCE_FILE...
// Prints "OK <n> images" and exits 0, or one "FAIL: ..." line per problem and exits 1; 2 on a usage error.
import fs from "node:fs";
import dcmjs from "dcmjs";

const SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";
dcmjs.log?.setLevel?.("error");

function read(path, withPixels) {
  const bytes = fs.readFileSync(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const options = withPixels ? {} : { untilTag: "7FE00010", includeUntilTagValue: false };
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(buffer, options).dict);
}

const items = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const numbers = (v) => items(v).map(Number);
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const personName = (v) => {
  const first = items(v)[0];
  return typeof first === "object" && first !== null ? first.Alphabetic ?? "" : String(first ?? "");
};

function main(argv) {
  const split = argv.indexOf("--");
  if (split < 1 || split === argv.length - 1) {
    console.log("usage: node verify_sc.mjs SC_FILE... -- SOURCE_FILE...");
    return 2;
  }
  const scs = argv.slice(0, split).map((p) => read(p, true));
  const sources = argv.slice(split + 1).map((p) => read(p, false));
  const failures = [];
  const first = sources[0];
  const iop = numbers(first.ImageOrientationPatient);
  const normal = cross(iop.slice(0, 3), iop.slice(3));
  const along = (d) => numbers(d.ImagePositionPatient).reduce((s, p, i) => s + p * normal[i], 0);
  const ordered = [...sources].sort((a, b) => along(a) - along(b));
  const sliceOf = new Map(ordered.map((d, k) => [d.SOPInstanceUID, k]));
  const byUid = new Map(sources.map((d) => [d.SOPInstanceUID, d]));

  const slices = [];
  for (const sc of scs) {
    const where = `SC ${sc.InstanceNumber ?? "?"}`;
    if (sc.SOPClassUID !== SECONDARY_CAPTURE) failures.push(`${where}: SOP Class ${sc.SOPClassUID} is not SC Image Storage`);
    if (sc.SamplesPerPixel !== 3 || sc.PhotometricInterpretation !== "RGB" || sc.PlanarConfiguration !== 0 || sc.BitsAllocated !== 8) {
      failures.push(`${where}: not 8-bit pixel-interleaved RGB`);
    }
    const needed = sc.Rows * sc.Columns * 3;
    const length = items(sc.PixelData).reduce((n, part) => n + part.byteLength, 0);
    if ((length !== needed && length !== needed + 1) || length % 2 !== 0) {
      failures.push(`${where}: PixelData has ${length} bytes, ${sc.Rows}x${sc.Columns} RGB needs ${needed}`);
    }
    if (sc.BurnedInAnnotation !== "YES") failures.push(`${where}: BurnedInAnnotation is not YES`);
    for (const keyword of ["StudyInstanceUID", "PatientID"]) {
      if (String(sc[keyword] ?? "") !== String(first[keyword] ?? "")) failures.push(`${where}: ${keyword} differs from the source`);
    }
    if (personName(sc.PatientName) !== personName(first.PatientName)) failures.push(`${where}: PatientName differs from the source`);
    if (sc.SeriesInstanceUID === first.SeriesInstanceUID) failures.push(`${where}: reuses the source SeriesInstanceUID`);
    const reference = items(sc.SourceImageSequence)[0];
    const uid = reference?.ReferencedSOPInstanceUID;
    if (!byUid.has(uid)) {
      failures.push(`${where}: referenced source image ${uid} is not in the source series`);
      continue;
    }
    if (reference.ReferencedSOPClassUID !== byUid.get(uid).SOPClassUID) {
      failures.push(`${where}: referenced SOP class ${reference.ReferencedSOPClassUID}, the source is ${byUid.get(uid).SOPClassUID}`);
    }
    slices.push({ number: Number(sc.InstanceNumber), slice: sliceOf.get(uid), uid });
  }

  const series = new Set(scs.map((sc) => sc.SeriesInstanceUID));
  if (series.size !== 1) failures.push(`the SCs are in ${series.size} series, not one`);
  if (new Set(scs.map((sc) => sc.SOPInstanceUID)).size !== scs.length) failures.push("SOP Instance UIDs repeat");
  if (new Set(slices.map((s) => s.uid)).size !== slices.length) failures.push("a source image has more than one SC");
  const byNumber = [...slices].sort((a, b) => a.number - b.number);
  const inOrder = byNumber.every((s, i) => i === 0 || (s.number !== byNumber[i - 1].number && s.slice > byNumber[i - 1].slice));
  if (!inOrder) failures.push(`Instance Numbers do not follow the source slice order: ${JSON.stringify(byNumber.map((s) => [s.number, s.slice]))}`);
  if (failures.length > 0) {
    for (const failure of failures.slice(0, 50)) console.log(`FAIL: ${failure}`);
    return 1;
  }
  console.log(`OK ${scs.length} images`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
