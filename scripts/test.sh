#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests against real dcmtk and Orthanc peers that the tests start on
# 127.0.0.1 and stop by PID. Assumes scripts/setup.sh has run (the README's command runs both).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# At least 10,000 mutated inputs per fuzz test in every run; raise it for longer runs.
export SPINESEG_FUZZ_ITERATIONS="${SPINESEG_FUZZ_ITERATIONS:-10000}"
dotnet build SpineSegDiff.Pacs.sln -c Release --nologo -v quiet -clp:ErrorsOnly
# The container image's build and publish steps (the Dockerfile runs this script), outside docker.
publish="$(mktemp -d)"
bash scripts/build-node.sh "$publish"
rm -rf "$publish"
status=0
for project in tests/*/*.csproj; do
  echo "== $(basename "$project" .csproj)"
  # A hung test is dumped and killed rather than stalling CI.
  dotnet test "$project" -c Release --no-build --nologo --logger "console;verbosity=normal" --blame-hang-timeout 5m \
    || status=1
done
exit $status
