#!/usr/bin/env bash
# One-command set-up on a Debian machine (as root, or a user with sudo):
#   bash tools/setup.sh
# 1. npm packages (`npm ci`; `npm install` when there is no lockfile), skipped when
#    node_modules is already up to date with package.json and package-lock.json;
# 2. the build (dist/);
# 3. a WebGPU adapter: when `flstm info` finds none, a software Vulkan driver is installed:
#    Mesa lavapipe, on Debian 12 (bookworm) from bookworm-backports. Debian 12's own Mesa 22
#    lavapipe lacks Vulkan features that Dawn (the `webgpu` npm package) needs
#    (shaderUniform*ArrayDynamicIndexing); bookworm-backports has Mesa 25, which has them.
#    A machine whose GPU driver (or lavapipe) already works is left as it is.
# 4. prints `flstm info`.
# Safe to run again. Environment: FLSTM_SKIP_APT=1 never touches system packages;
# FLSTM_BROWSER=1 also installs Chromium (for the browser demo and its tests).
# 5. MPI for training on several processes (mpirun -np N flstm train ...): Open MPI, when no
#    MPI launcher is installed; FLSTM_SKIP_MPI=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*"; }
die() { echo "setup: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "installing system packages needs root or sudo: $*"
  fi
}

# apt-get, quiet: its output goes to a log that is shown only when it fails.
APT_LOG=$(mktemp)
trap 'rm -f "$APT_LOG"' EXIT
apt_quiet() {
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 "$@" >"$APT_LOG" 2>&1 </dev/null; then
    tail -n 30 "$APT_LOG" >&2
    die "apt-get $* failed"
  fi
}
apt_update() {
  # A broken third-party source should not stop the set-up; the install below says if it matters.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update >"$APT_LOG" 2>&1 </dev/null ||
    log "apt-get update reported errors (continuing): $(grep -m1 -E '^(E|W):' "$APT_LOG" || true)"
}

# --- Node.js -----------------------------------------------------------------------------
command -v node >/dev/null && command -v npm >/dev/null ||
  die "Node.js >= 20 with npm is needed (https://nodejs.org/en/download; Debian 12's own nodejs is 18)."
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is needed; this machine has $(node --version)."

# --- npm packages ------------------------------------------------------------------------
stamp=node_modules/.package-lock.json   # written by npm after every install
if [ -f "$stamp" ] && [ ! package.json -nt "$stamp" ] && { [ ! -f package-lock.json ] || [ ! package-lock.json -nt "$stamp" ]; }; then
  log "npm packages are up to date"
elif [ -f package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error </dev/null
else
  log "npm install (no package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error </dev/null
fi

# --- build -------------------------------------------------------------------------------
log "building"
npm run --silent build </dev/null

# --- a WebGPU adapter --------------------------------------------------------------------
# The same adapter search the library does (GPU driver first, then software Vulkan drivers).
probe() { timeout 120 node dist/cli.js info --json >/dev/null 2>&1 </dev/null; }

install_vulkan_driver() {
  [ -r /etc/os-release ] && . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = bookworm ]; then
    if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      log "adding bookworm-backports to the apt sources"
      echo 'deb http://deb.debian.org/debian bookworm-backports main' |
        as_root tee /etc/apt/sources.list.d/flstm-bookworm-backports.list >/dev/null
    fi
    log "installing Mesa lavapipe (mesa-vulkan-drivers) from bookworm-backports"
    apt_update
    apt_quiet install -t bookworm-backports mesa-vulkan-drivers libvulkan1
  else
    log "installing Mesa lavapipe (mesa-vulkan-drivers)"
    apt_update
    apt_quiet install mesa-vulkan-drivers libvulkan1
  fi
}

if probe; then
  log "a WebGPU adapter is available"
elif [ "${FLSTM_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
  log "no WebGPU adapter found"
  install_vulkan_driver
  probe || { node dist/cli.js info </dev/null || true; die "still no WebGPU adapter after installing Mesa lavapipe"; }
else
  node dist/cli.js info </dev/null || true
  die "no WebGPU adapter (see above)"
fi

# Chromium for the browser demo's tests (test/browser.test.ts drives it with playwright-core;
# no browser download): Debian's package, which brings SwiftShader for WebGPU without a GPU.
if [ "${FLSTM_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null; then
  if [ "${FLSTM_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
    log "installing Chromium"
    apt_update
    apt_quiet install chromium
  else
    log "Chromium is not installed: install it (Debian: apt-get install chromium) or set FLSTM_CHROMIUM=/path/to/chrome for the browser tests"
  fi
fi
if [ "${FLSTM_BROWSER:-0}" = 1 ] && command -v chromium >/dev/null; then
  log "$(chromium --version 2>/dev/null || echo chromium) for the browser tests"
fi

# --- MPI ---------------------------------------------------------------------------------
# Distributed training reaches MPI's library through koffi (no compiler, no binding to build);
# a machine that already has a launcher (a cluster's own MPI, MPICH) is left as it is.
if [ "${FLSTM_SKIP_MPI:-0}" != 1 ] && ! command -v mpirun >/dev/null && ! command -v mpiexec >/dev/null; then
  if [ "${FLSTM_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
    log "installing Open MPI (openmpi-bin), for mpirun -np N flstm train"
    apt_update
    apt_quiet install openmpi-bin
  else
    log "no MPI launcher: training on several processes needs one (Debian: apt-get install openmpi-bin)"
  fi
fi

# --- done --------------------------------------------------------------------------------
# Dawn prints notes about limits it adjusts to stderr; they are not ours to show here.
node dist/cli.js info </dev/null 2> >(grep -v 'artificially reduced' >&2)
