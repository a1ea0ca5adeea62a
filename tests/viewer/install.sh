#!/usr/bin/env bash
# Installs the viewer checks' npm packages into tests/viewer/node_modules: `npm ci` from the lock file, then the
# prebuilt OHIF dist (package.json "ohifDist"), which npm cannot install as a dependency (see its "_why").
# Idempotent: a stamp records what is installed, and nothing is fetched while it matches the lock and the pin.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "viewer: $tool is missing (apt-get install nodejs npm)" >&2; exit 1; }
done

read -r ohif_name ohif_version ohif_integrity < <(node -e '
  const p = require("./package.json").ohifDist;
  console.log(p.package, p.version, p.integrity);')
want="$(cat package.json package-lock.json | sha256sum | cut -d" " -f1)"
stamp=node_modules/.spineseg-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "node_modules/$ohif_name/dist/index.html" ]; then
  echo "viewer: node_modules up to date" >&2
  exit 0
fi

npm ci --no-audit --no-fund --loglevel=error

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm pack "$ohif_name@$ohif_version" --pack-destination "$tmp" --json --loglevel=error > "$tmp/pack.json"
got="$(node -e 'console.log(require(process.argv[1])[0].integrity)' "$tmp/pack.json")"
tarball="$tmp/$(node -e 'console.log(require(process.argv[1])[0].filename)' "$tmp/pack.json")"
# npm pack checks the registry's integrity itself; this checks it is the tarball we pinned, not merely a valid one.
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$ohif_integrity" ] || [ "$actual" != "$ohif_integrity" ]; then
  echo "viewer: $ohif_name@$ohif_version integrity $actual does not match the pin $ohif_integrity" >&2
  exit 1
fi
mkdir -p "node_modules/$ohif_name"
# Only dist/ and package.json: the dist is self-contained, and the rest (sources maps aside) is not needed.
tar -xzf "$tarball" -C "node_modules/$ohif_name" --strip-components=1 package/package.json package/dist
echo "$want" > "$stamp"
echo "viewer: installed $(ls node_modules | wc -l) packages and $ohif_name@$ohif_version dist" >&2
