#!/usr/bin/env bash
# Builds native/build/libspineseg_native.so (Release, incremental). Extra arguments go to the first CMake configure,
# e.g. native/build.sh -DCMAKE_PREFIX_PATH=/opt/libtorch for an official (CUDA) libtorch. Called by the
# SpineSegDiff.Segmentation build; safe to run concurrently (serialised by a lock).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${SPINESEG_NATIVE_BUILD_DIR:-$here/build}"
# Lines in MSBuild's canonical error format, so the dotnet build shows them even with -clp:ErrorsOnly.
error() { echo "spineseg-native : error SSN0001: $*" >&2; exit 1; }

command -v cmake >/dev/null 2>&1 || error "cmake is not installed (Debian: apt-get install cmake g++ libtorch-dev)"
command -v c++ >/dev/null 2>&1 || error "no C++ compiler (Debian: apt-get install g++)"
mkdir -p "$build"
exec 9>"$build/.lock"
flock 9

if [ ! -f "$build/CMakeCache.txt" ] || [ "$#" -gt 0 ]; then
  if ! cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >"$build/configure.log" 2>&1; then
    cat "$build/configure.log" >&2
    rm -f "$build/CMakeCache.txt"
    if grep -q "libtorch was not found" "$build/configure.log"; then
      error "libtorch was not found: install the Debian package libtorch-dev (apt-get install libtorch-dev), or pass -DCMAKE_PREFIX_PATH=<libtorch>"
    fi
    error "CMake configure failed (log above)"
  fi
fi
cmake --build "$build" --parallel "$(nproc 2>/dev/null || echo 2)" >"$build/build.log" 2>&1 || { cat "$build/build.log" >&2; error "native build failed (log above)"; }
