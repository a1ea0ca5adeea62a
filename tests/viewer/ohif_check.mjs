#!/usr/bin/env node
// Drives the real OHIF viewer (prebuilt @ohif/app dist, served by serve_ohif.mjs in front of Orthanc) in Debian's
// Chromium, headless, through puppeteer-core, the way a radiologist would use it: open the study, look at a slice,
// double-click the SEG's thumbnail. It reports what OHIF made of our SEG; the C# test asserts on the report.
//
// usage: node ohif_check.mjs SPEC.json
// SPEC: { orthanc, port, chromium, userDataDir, outDir, studyUid, segSeriesUid, sopUids (source images in slice
//         order), rows, columns, expectedPath (uint8 label map, slices x rows x columns in sopUids order, zero on
//         slices the SEG does not cover), segmentOfLabel { label: segmentNumber }, probeSopUid,
//         probes [{ name, world: [x, y, z] }], imageCorners (world positions of the probe slice's 4 corner
//         pixels), timeoutMs }
// Writes OUT/before.png, OUT/after.png and OUT/report.json; prints the report. Exit 0 when the report was written
// (whatever it says), 1 when a stage did not complete in time (the message says which), 2 on a usage error.
import fs from "node:fs";
import path from "node:path";
import puppeteer from "puppeteer-core";
import { startServer } from "./serve_ohif.mjs";

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (message) => console.error(`[ohif ${elapsed()}] ${message}`);

if (process.argv.length !== 3) {
  console.log("usage: node ohif_check.mjs SPEC.json");
  process.exit(2);
}
const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
fs.mkdirSync(spec.outDir, { recursive: true });

// Every wait is bounded and says what it waited for.
async function waitFor(page, what, fn, arg, timeoutMs = spec.timeoutMs) {
  try {
    const handle = await page.waitForFunction(fn, { timeout: timeoutMs, polling: 200 }, arg);
    return await handle.jsonValue();
  } catch (error) {
    await page.screenshot({ path: path.join(spec.outDir, "timeout.png") }).catch(() => {});
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (screenshot: timeout.png): ${error.message}`);
  }
}

// The stack viewport showing the source series, on the slice of the probes, fully rendered. OHIF may still move
// the stack to its own initial image after we moved it, so this re-asks until the slice is shown and has rendered.
async function showProbeSlice(page) {
  await page.evaluate(() => { window.__probeRendered = false; window.__probeRenderAsked = false; });
  await waitFor(page, "the probe slice to be shown and rendered", (sopUid) => {
    const viewport = window.cornerstone.getRenderingEngines()[0].getViewports().find((v) => v.getImageIds?.().some((id) => id.includes(sopUid)));
    if (!viewport) return false;
    const target = viewport.getImageIds().findIndex((id) => id.includes(`/instances/${sopUid}/`));
    if (viewport.getCurrentImageIdIndex() !== target) {
      window.__probeRendered = false;
      window.__probeRenderAsked = false;
      viewport.setImageIdIndex(target);
      return false;
    }
    if (!window.__probeRenderAsked) {
      window.__probeRenderAsked = true;
      viewport.element.addEventListener(window.cornerstone.Enums.Events.IMAGE_RENDERED, function rendered() {
        if (viewport.getCurrentImageIdIndex() === target) {
          window.__probeRendered = true;
          viewport.element.removeEventListener(window.cornerstone.Enums.Events.IMAGE_RENDERED, rendered);
        }
      });
      viewport.render();
      return false;
    }
    return window.__probeRendered;
  }, spec.probeSopUid);
  // Two more frames: the overlay (an SVG/labelmap actor) can land one frame after the image.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

// Screen position (CSS pixels of the page) of each probe, through cornerstone's own world -> canvas mapping.
function probePositions(page) {
  return page.evaluate(({ sopUid, probes, corners }) => {
    const viewport = window.cornerstone.getRenderingEngines()[0].getViewports().find((v) => v.getImageIds?.().some((id) => id.includes(sopUid)));
    const rect = viewport.canvas.getBoundingClientRect();
    // The image itself on screen (its corner pixels' centres, inset by 2 px), within the canvas: the viewer's own
    // coloured controls (scroll bar, orientation icons) lie around it, and are not overlay.
    const xs = [], ys = [];
    for (const corner of corners) {
      const [x, y] = viewport.worldToCanvas(corner);
      xs.push(x);
      ys.push(y);
    }
    const left = Math.max(0, Math.min(...xs)) + 2, right = Math.min(rect.width, Math.max(...xs)) - 2;
    const top = Math.max(0, Math.min(...ys)) + 2, bottom = Math.min(rect.height, Math.max(...ys)) - 2;
    return {
      viewport: { left: rect.left + left, top: rect.top + top, width: right - left, height: bottom - top },
      probes: probes.map((p) => {
        const [x, y] = viewport.worldToCanvas(p.world);
        return { name: p.name, x: rect.left + x, y: rect.top + y };
      }),
    };
  }, { sopUid: spec.probeSopUid, probes: spec.probes, corners: spec.imageCorners });
}

// Decodes a screenshot in a blank page (the browser is the PNG decoder) and samples it: the mean colour of a 5x5
// square at each probe, and how many pixels of the image on screen are clearly coloured (not grey).
async function sample(browser, png, where) {
  const blank = await browser.newPage();
  try {
    return await blank.evaluate(async ({ b64, where }) => {
      const image = new Image();
      image.src = `data:image/png;base64,${b64}`;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d");
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height).data;
      const at = (x, y) => (Math.round(y) * image.width + Math.round(x)) * 4;
      const probes = where.probes.map((p) => {
        const sum = [0, 0, 0];
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) for (let c = 0; c < 3; c++) sum[c] += data[at(p.x + dx, p.y + dy) + c];
        return { name: p.name, x: Math.round(p.x), y: Math.round(p.y), rgb: sum.map((s) => Math.round(s / 25)) };
      });
      const v = where.viewport;
      let coloured = 0, total = 0;
      for (let y = Math.ceil(v.top); y < Math.floor(v.top + v.height); y++) {
        for (let x = Math.ceil(v.left); x < Math.floor(v.left + v.width); x++) {
          const i = at(x, y);
          total++;
          // Chroma over 80: the overlay fills measure ~127 (e.g. 128,128,255 on the white canal); OHIF's light
          // blue orientation letters drawn over the image measure under 60 and are not overlay.
          if (Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 80) coloured++;
        }
      }
      return { probes, colouredPixels: coloured, imagePixels: total, imageRect: v };
    }, { b64: png.toString("base64"), where });
  } finally {
    await blank.close();
  }
}

// OHIF's decoded labelmap, one array per source image (keyed by SOP Instance UID), and its segments.
function readSegmentation(page) {
  return page.evaluate(async (segSeriesUid) => {
    const { segmentationService, displaySetService } = window.services;
    const segDisplaySet = displaySetService.getActiveDisplaySets().find((d) => d.SeriesInstanceUID === segSeriesUid);
    const segmentation = segmentationService.getSegmentations().find((s) => s.segmentationId === segDisplaySet.displaySetInstanceUID) ?? segmentationService.getSegmentations()[0];
    const segments = Object.values(segmentation.segments).filter(Boolean).map((s) => ({ number: s.segmentIndex, label: s.label }));
    const labelmap = segmentation.representationData.Labelmap;
    const cache = window.cornerstone.cache;
    const slices = {};
    const toBase64 = (bytes) => {
      let text = "";
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return btoa(text);
    };
    const sopOf = (imageId) => (/\/instances\/([0-9.]+)\//.exec(imageId) ?? [])[1];
    let source = "none";
    if (labelmap.imageIds?.length) {
      source = "imageIds";
      for (const id of labelmap.imageIds) {
        const image = cache.getImage(id);
        const sop = sopOf(image.referencedImageId);
        const pixels = image.voxelManager ? image.voxelManager.getScalarData() : image.getPixelData();
        slices[sop] = { rows: image.rows, columns: image.columns, data: toBase64(new Uint8Array(Uint8Array.from(pixels))) };
      }
    } else if (labelmap.volumeId) {
      source = "volume";
      const volume = cache.getVolume(labelmap.volumeId);
      const [columns, rows, depth] = volume.dimensions;
      const all = volume.voxelManager.getCompleteScalarDataArray();
      const referenced = cache.getVolume(labelmap.referencedVolumeId)?.imageIds ?? [];
      for (let k = 0; k < depth; k++) {
        const sop = sopOf(referenced[k] ?? "");
        slices[sop] = { rows, columns, data: toBase64(Uint8Array.from(all.subarray(k * rows * columns, (k + 1) * rows * columns))) };
      }
    }
    return {
      displaySet: { modality: segDisplaySet.Modality, isLoaded: !!segDisplaySet.isLoaded, isHydrated: !!segDisplaySet.isHydrated, label: segDisplaySet.SeriesDescription },
      segmentationId: segmentation.segmentationId,
      segments,
      source,
      slices,
    };
  }, spec.segSeriesUid);
}

const server = await startServer({ port: spec.port, orthanc: spec.orthanc });
const base = `http://127.0.0.1:${spec.port}`;
let browser;
let exitCode = 0;
try {
  browser = await puppeteer.launch({
    executablePath: spec.chromium,
    headless: true,
    userDataDir: spec.userDataDir,
    defaultViewport: { width: 1400, height: 900, deviceScaleFactor: 1 },
    protocolTimeout: spec.timeoutMs * 2,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
      `--user-data-dir=${spec.userDataDir}`,
    ],
  });
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text().slice(0, 300)); });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${String(e.message).slice(0, 300)}`));
  // The first-visit tour overlays the viewer and swallows clicks: mark it seen before any script runs.
  await page.evaluateOnNewDocument(() => localStorage.setItem("shownTours", JSON.stringify(["basicViewerTour"])));

  log(`opening study ${spec.studyUid}`);
  await page.goto(`${base}/viewer?StudyInstanceUIDs=${spec.studyUid}`, { waitUntil: "domcontentloaded", timeout: spec.timeoutMs });
  const segDisplaySetUid = await waitFor(page, "OHIF to list the SEG display set", (segSeriesUid) => {
    const d = window.services?.displaySetService?.getActiveDisplaySets().find((x) => x.SeriesInstanceUID === segSeriesUid);
    return d ? d.displaySetInstanceUID : false;
  }, spec.segSeriesUid);
  await waitFor(page, "the source series in a viewport", (sopUid) => {
    const engine = window.cornerstone?.getRenderingEngines?.()[0];
    const viewport = engine?.getViewports().find((v) => v.getImageIds?.().some((id) => id.includes(sopUid)));
    return !!viewport?.getCurrentImageId?.();
  }, spec.probeSopUid);
  log("source series shown");
  await showProbeSlice(page);
  const whereBefore = await probePositions(page);
  const before = await page.screenshot({ path: path.join(spec.outDir, "before.png") });
  const sampledBefore = await sample(browser, before, whereBefore);
  const segmentationsBefore = await page.evaluate(() => window.services.segmentationService.getSegmentations().length);
  log(`before: ${sampledBefore.colouredPixels} of ${sampledBefore.imagePixels} image pixels on screen coloured`);

  // As a user: double-click the SEG's thumbnail in the study panel.
  const thumbnail = await page.waitForSelector(`[id="thumbnail-${segDisplaySetUid}"]`, { timeout: spec.timeoutMs, visible: true });
  await thumbnail.click({ count: 2 });
  log("double-clicked the SEG thumbnail");
  await waitFor(page, "OHIF to load the SEG and create its segmentation", (segSeriesUid) => {
    const { displaySetService, segmentationService } = window.services;
    const d = displaySetService.getActiveDisplaySets().find((x) => x.SeriesInstanceUID === segSeriesUid);
    const segmentations = segmentationService.getSegmentations();
    return !!d?.isLoaded && segmentations.length > 0 && !!segmentations[0].representationData?.Labelmap;
  }, spec.segSeriesUid);
  // Hydration (SEG viewport -> the source viewport with the labelmap on it) finishes after the load.
  await waitFor(page, "the segmentation to be shown on a viewport", () => {
    const { segmentationService } = window.services;
    const engine = window.cornerstone.getRenderingEngines()[0];
    return engine.getViewports().some((v) => segmentationService.getSegmentationRepresentations(v.id).length > 0);
  });
  await waitFor(page, "the source series back in a viewport", (sopUid) => {
    const viewport = window.cornerstone.getRenderingEngines()[0].getViewports().find((v) => v.getImageIds?.().some((id) => id.includes(sopUid)));
    return !!viewport?.getCurrentImageId?.();
  }, spec.probeSopUid);
  log("segmentation created");
  const segmentation = await readSegmentation(page);
  await showProbeSlice(page);
  const whereAfter = await probePositions(page);
  const after = await page.screenshot({ path: path.join(spec.outDir, "after.png") });
  const sampledAfter = await sample(browser, after, whereAfter);
  log(`after: ${sampledAfter.colouredPixels} of ${sampledAfter.imagePixels} image pixels on screen coloured`);

  // Voxel-by-voxel comparison with the expected mask, per source image.
  const expected = fs.readFileSync(spec.expectedPath);
  const plane = spec.rows * spec.columns;
  const perSlice = [];
  const counts = {};
  for (let k = 0; k < spec.sopUids.length; k++) {
    const sop = spec.sopUids[k];
    const want = expected.subarray(k * plane, (k + 1) * plane);
    const got = segmentation.slices[sop] ? Buffer.from(segmentation.slices[sop].data, "base64") : null;
    let differing = 0, firstAt = -1, expectedVoxels = 0;
    for (let p = 0; p < plane; p++) {
      const w = want[p] === 0 ? 0 : spec.segmentOfLabel[want[p]];
      if (w !== 0) expectedVoxels++;
      const g = got ? got[p] : 0;
      if (g !== 0) counts[g] = (counts[g] ?? 0) + 1;
      if (g !== w) {
        differing++;
        if (firstAt < 0) firstAt = p;
      }
    }
    perSlice.push({ slice: k, sopUid: sop, present: !!got, size: got ? got.length : 0, expectedVoxels, differing, firstAt });
  }
  const report = {
    seconds: (Date.now() - started) / 1000,
    segmentationsBefore,
    displaySet: segmentation.displaySet,
    labelmapSource: segmentation.source,
    segments: segmentation.segments,
    voxelCounts: counts,
    labelmapSlices: Object.keys(segmentation.slices).length,
    perSlice,
    before: sampledBefore,
    after: sampledAfter,
    consoleErrors: consoleErrors.slice(0, 20),
  };
  fs.writeFileSync(path.join(spec.outDir, "report.json"), JSON.stringify(report, null, 2));
  console.log(JSON.stringify(report));
  log("done");
} catch (error) {
  console.log(`FAIL: ${error.message}`);
  exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  server.close();
  server.closeAllConnections?.();
}
process.exit(exitCode);
