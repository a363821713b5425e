#!/usr/bin/env bash
# One-command set-up for a Debian machine: npm packages, and a WebGPU-capable Vulkan
# driver when the machine has no GPU driver of its own.
#
# Why backports: dawn.node (the `webgpu` npm package) needs Vulkan features that Debian 12's
# Mesa 22 lavapipe lacks (shaderUniform*ArrayDynamicIndexing); Mesa 25 lavapipe from
# bookworm-backports has them.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

have_vulkan_icd() {
  # A usable ICD: a GPU vendor's, or Mesa's lavapipe at version >= 23.
  local f
  for f in /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json; do
    [ -e "$f" ] || continue
    case "$f" in
      *lvp_icd*) dpkg --compare-versions "$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0)" ge 23 && return 0 ;;
      *) return 0 ;;
    esac
  done
  return 1
}

if [ "${FLSTM_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
  if ! have_vulkan_icd; then
    echo "setup: no WebGPU-capable Vulkan driver found; installing Mesa lavapipe from bookworm-backports"
    . /etc/os-release
    if [ "${VERSION_CODENAME:-}" = bookworm ]; then
      if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo 'deb http://deb.debian.org/debian bookworm-backports main' | as_root tee /etc/apt/sources.list.d/flstm-backports.list >/dev/null
      fi
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
    else
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
    fi
  fi
  if [ "${FLSTM_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

npm ci --no-audit --no-fund 2>/dev/null || npm install --no-audit --no-fund
npm run build
node dist/cli.js info
