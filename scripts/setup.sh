#!/usr/bin/env bash
# Brings a checkout to a runnable state, doing only what is missing: Debian packages (libtorch, the Gloo headers
# its distributed engine's headers include, OpenBLAS with OpenMP, a C++ toolchain), npm packages, and the native
# libtorch addon. Safe to run again and again.
# LIBTORCH=/path/to/libtorch builds against another libtorch (official CPU or CUDA zip) instead of Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for pkg in libopenblas0-openmp g++ make python3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ -z "${LIBTORCH:-}" ]; then
  # libtorch-dev ships c10d's headers, and ProcessGroupGloo.hpp includes Gloo's, which are in libgloo-dev (the
  # same Gloo that libtorch1.13 links); libtorch-dev does not depend on it.
  for pkg in libtorch-dev libgloo-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
for pkg in ${TUMORSCOPE_EXTRA_APT:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]}"
    log "install them as root, then run this again:"
    log "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  # onnxruntime-node bundles its CPU binaries; skip its download of GPU ones (no network to that host here).
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi

addon=native/build/Release/tumorscope_torch.node
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp -newer "$addon" -print -quit)" ]; then
  log "building the libtorch addon (about a minute)"
  npx --no-install node-gyp rebuild --directory native -j "$(nproc)" --loglevel=error >/dev/null
fi

# The browser viewer that `tumorscope serve` hands out: rebuilt when any file under web/ or src/ (the page runs the
# two-stage core and the TIFF decoder from there) is newer than the build.
viewer=web/dist/index.html
if [ -f web/index.html ] && { [ ! -f "$viewer" ] || [ -n "$(find web src -path web/dist -prune -o -type f -newer "$viewer" -print -quit)" ]; }; then
  log "building the web viewer (vite)"
  npx --no-install vite build web --emptyOutDir --logLevel error
fi
