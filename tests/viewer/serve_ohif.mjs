// A small same-origin server for OHIF's prebuilt dist: static files, our app-config.js, and a reverse proxy of
// /dicom-web to Orthanc's DICOMweb plugin. Orthanc sends no CORS headers, so the viewer must reach it on its own
// origin; the Host header goes through unchanged so the plugin writes bulk-data URLs that point back here.
// OHIF's dist wants cross-origin isolation (SharedArrayBuffer for its decoders): COOP same-origin, COEP require-corp.
//
// Used by ohif_check.mjs; also runnable by hand to look at a study:
//   node serve_ohif.mjs PORT ORTHANC_HTTP_ROOT     e.g. node serve_ohif.mjs 18080 http://127.0.0.1:8042
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const distFolder = path.join(here, "node_modules", "@ohif", "app", "dist");

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

// DICOMweb data source on this origin; confirmation prompts off so loading a SEG hydrates it without a dialog.
export const appConfig = `window.config = {
  routerBasename: '/',
  extensions: [],
  modes: [],
  showStudyList: true,
  disableConfirmationPrompts: true,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: false,
  showLoadingIndicator: true,
  strictZSpacingForVolumeViewport: true,
  maxNumberOfWebWorkers: 2,
  investigationalUseDialog: { option: 'never' },
  defaultDataSourceName: 'orthanc',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'orthanc',
      configuration: {
        friendlyName: 'Orthanc (test)',
        name: 'orthanc',
        qidoRoot: window.location.origin + '/dicom-web',
        wadoRoot: window.location.origin + '/dicom-web',
        wadoUriRoot: window.location.origin + '/dicom-web',
        qidoSupportsIncludeField: false,
        supportsReject: false,
        imageRendering: 'wadors',
        thumbnailRendering: 'wadors',
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: false,
        supportsWildcard: true,
        staticWado: false,
        singlepart: 'bulkdata,video',
        bulkDataURI: { enabled: true, relativeResolution: 'studies' },
        omitQuotationForMultipartRequest: true,
      },
    },
  ],
};
`;

function send(res, status, headers, body) {
  res.writeHead(status, { ...isolation, ...headers });
  res.end(body);
}

function serveStatic(req, res, pathname) {
  if (pathname === "/app-config.js") {
    send(res, 200, { "Content-Type": types[".js"], "Cache-Control": "no-store" }, appConfig);
    return;
  }
  const relative = path.normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, "");
  let file = path.join(distFolder, relative);
  if (!file.startsWith(distFolder)) {
    send(res, 403, { "Content-Type": "text/plain" }, "forbidden");
    return;
  }
  // A single-page app: any route that is not a file (/viewer, /segmentation, ...) gets index.html.
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(distFolder, "index.html");
  const type = types[path.extname(file)] ?? "application/octet-stream";
  send(res, 200, { "Content-Type": type, "Content-Length": fs.statSync(file).size }, fs.readFileSync(file));
}

function proxy(req, res, orthanc) {
  const target = new URL(req.url, orthanc);
  const upstream = http.request(
    {
      hostname: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: req.method,
      // Host unchanged (this server's host:port): the DICOMweb plugin builds BulkDataURIs from it.
      headers: { ...req.headers },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...isolation });
      answer.pipe(res);
    },
  );
  upstream.on("error", (error) => send(res, 502, { "Content-Type": "text/plain" }, `proxy: ${error.message}`));
  req.pipe(upstream);
}

/** Starts the server on 127.0.0.1:port; resolves to the http.Server once it listens. */
export function startServer({ port, orthanc, log = () => {} }) {
  if (!fs.existsSync(path.join(distFolder, "index.html"))) {
    throw new Error(`OHIF dist missing at ${distFolder}: run scripts/setup.sh`);
  }
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, "http://localhost");
    log(`${req.method} ${req.url}`);
    if (pathname === "/dicom-web" || pathname.startsWith("/dicom-web/")) proxy(req, res, orthanc);
    else if (req.method === "GET" || req.method === "HEAD") serveStatic(req, res, pathname);
    else send(res, 405, { "Content-Type": "text/plain" }, "method not allowed");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port, orthanc] = process.argv.slice(2);
  const server = await startServer({ port: Number(port), orthanc });
  console.log(`OHIF on http://127.0.0.1:${server.address().port}/ (DICOMweb from ${orthanc})`);
}
