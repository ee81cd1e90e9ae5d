#!/usr/bin/env bash
# Installs a CPU implementation of Vulkan (SwiftShader, from Debian's chromium-common) into .swiftshader/,
# so WebGPU (Dawn) runs for real on machines without a GPU. Where chromium-common is installed already (it comes
# with Debian's chromium), its copy in /usr/lib/chromium is used instead. Idempotent; prints the ICD path on its
# last line.
# Use: eval "$(scripts/setup-swiftshader.sh --env)" to export VK_ICD_FILENAMES in the current shell.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.swiftshader"
icd="$dir/usr/lib/chromium/vk_swiftshader_icd.json"
system_icd=/usr/lib/chromium/vk_swiftshader_icd.json
[ ! -f "$icd" ] && [ -f "$system_icd" ] && [ -f /usr/lib/chromium/libvk_swiftshader.so ] && icd=$system_icd
log() { [ "${1:-}" = "--env" ] || echo "$@" >&2; }
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  echo "setup-swiftshader: installing the Vulkan loader (libvulkan1)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq --no-install-recommends libvulkan1 >&2
fi
if [ ! -f "$icd" ]; then
  echo "setup-swiftshader: fetching chromium-common (it ships SwiftShader's Vulkan ICD)" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download chromium-common >&2 2>/dev/null || { apt-get update -qq >&2 && apt-get download chromium-common >&2; })
  mkdir -p "$dir"
  dpkg -x "$tmp"/chromium-common_*.deb "$tmp/x"
  # keep only what the ICD needs: the JSON manifest and libvk_swiftshader.so
  mkdir -p "$dir/usr/lib/chromium"
  cp "$tmp"/x/usr/lib/chromium/vk_swiftshader_icd.json "$tmp"/x/usr/lib/chromium/libvk_swiftshader.so "$dir/usr/lib/chromium/"
  rm -rf "$tmp"
fi
if [ "${1:-}" = "--env" ]; then
  echo "export VK_ICD_FILENAMES=$icd"
  echo "export XDG_RUNTIME_DIR=\${XDG_RUNTIME_DIR:-/tmp}"
else
  echo "$icd"
fi
