#!/usr/bin/env bash
# Sets up a Debian 12 machine for the node and its tests, then builds: installs only what is missing, so it is
# cheap to run every time. Run as root on a fresh machine (apt-get needs it); later runs need no root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# dcmtk and dicom3tools: real DICOM peers and validators; python3-pydicom: an independent writer of test inputs;
# python3-yaml: reads deploy/docker-compose.yml in its test;
# orthanc: the PACS the tests talk to; libtorch-dev, cmake, g++: the native segmentation engine (native/);
# chromium: the browser the OHIF viewer test drives headless (tests/viewer); rabbitmq-server: the broker of the
# separate gateway and worker processes (the tests start private brokers from its files, never its service).
packages=(dcmtk dicom3tools python3-pydicom python3-yaml orthanc orthanc-dicomweb libtorch-dev cmake g++ chromium rabbitmq-server)
# node and npm run the dcmjs verifier and the viewer test. A machine may already have them from elsewhere (a
# NodeSource nodejs bundles npm and conflicts with Debian's npm package), so only a missing command adds Debian's.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The orthanc and rabbitmq-server packages try to start their own services; policy may refuse that, which is fine:
  # tests start theirs on free ports.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  echo "setup: the .NET 10 SDK is required and was not found on PATH." >&2
  echo "       Install it as described at https://learn.microsoft.com/dotnet/core/install/linux-debian and re-run." >&2
  exit 1
fi

# dcmjs, puppeteer-core (npm ci from the lock file) and the prebuilt OHIF dist; skipped when already in place.
bash "$root/tests/viewer/install.sh"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build "$root/SpineSegDiff.Pacs.sln" -c Release --nologo -v quiet -clp:ErrorsOnly
echo "setup: ready" >&2
