#!/usr/bin/env bash
# The build and publish steps of the node's container image, as a script so that CI runs exactly what the Dockerfile
# runs (images cannot be pulled on the build machine): the native libtorch module (built by the dotnet build), the
# framework-dependent publish of the spineseg program with its models, appsettings and native library, and a smoke
# run of the published program.
#   bash scripts/build-node.sh OUT_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: build-node.sh OUT_DIR}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# An official libtorch (e.g. the CUDA build, unpacked at LIBTORCH_PREFIX) instead of Debian's libtorch-dev: configure
# the native module against it before the dotnet build, which then only rebuilds it incrementally.
if [ -n "${LIBTORCH_PREFIX:-}" ]; then
  bash "$root/native/build.sh" "-DCMAKE_PREFIX_PATH=$LIBTORCH_PREFIX"
fi
dotnet publish "$root/src/SpineSegDiff.Cli/SpineSegDiff.Cli.csproj" -c Release -o "$out" --nologo -v quiet -clp:ErrorsOnly
# The models are data, not build output: the image carries the shipped ones; a site mounts its own over them.
mkdir -p "$out/models"
cp "$root"/models/*.model "$root"/models/*.card.json "$out/models/"
test -f "$out/libspineseg_native.so" || { echo "build-node: libspineseg_native.so missing from the publish output" >&2; exit 1; }
# Smoke run: the published program starts, loads its native module and answers --help.
dotnet "$out/spineseg.dll" --help >/dev/null
echo "build-node: published to $out" >&2
