#!/usr/bin/env bash
# Brings a Debian machine that has Node.js 20 and npm up to what the tests need:
#   - a Chromium for the browser tests (Debian's `chromium`, or WELFORD_CHROME=/path/to/chrome);
#   - a Firefox for the browser tests run in Firefox (Debian's `firefox-esr`, or
#     WELFORD_FIREFOX=/path/to/firefox); its WebGPU runs on Chromium's SwiftShader driver too;
#   - the Vulkan loader (`libvulkan1`), through which Dawn in Node reaches a GPU or SwiftShader;
#   - Fashion-MNIST (Debian's `dataset-fashion-mnist`: IDX files under /usr/share/datasets/fashion-mnist);
#   - pnpm at the version pinned in package.json ("packageManager"), through npm (not corepack).
# Installs with apt-get when run as root; otherwise says what is missing and fails.
# Run it alone (bash scripts/ensure-system.sh) or source it (scripts/test.sh does, to keep PATH).
set -euo pipefail

welford_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

welford_fail() {
  echo "ensure-system: $*" >&2
  exit 1
}

welford_is_root() { [ "$(id -u)" -eq 0 ]; }

welford_has_vulkan_loader() {
  { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } | grep -q 'libvulkan\.so\.1 '
}

# --- Chromium, Firefox and the Vulkan loader ----------------------------------------------
welford_missing=()
if [ -n "${WELFORD_CHROME:-}" ]; then
  [ -x "$WELFORD_CHROME" ] || welford_fail "WELFORD_CHROME=$WELFORD_CHROME is not an executable file"
elif [ ! -x /usr/bin/chromium ]; then
  welford_missing+=(chromium)
fi
if [ -n "${WELFORD_FIREFOX:-}" ]; then
  [ -x "$WELFORD_FIREFOX" ] || welford_fail "WELFORD_FIREFOX=$WELFORD_FIREFOX is not an executable file"
elif [ ! -x /usr/bin/firefox-esr ]; then
  welford_missing+=(firefox-esr)
fi
welford_has_vulkan_loader || welford_missing+=(libvulkan1)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || welford_missing+=(dataset-fashion-mnist)

if [ "${#welford_missing[@]}" -gt 0 ]; then
  if ! welford_is_root; then
    {
      echo "ensure-system: missing Debian packages: ${welford_missing[*]} (and not root, so not installing them)."
      echo "  As root: apt-get update && apt-get install -y ${welford_missing[*]}"
      if [[ " ${welford_missing[*]} " == *" chromium "* ]]; then
        echo "  Or point at a Chrome or Chromium you already have (it is launched headless with WebGPU):"
        echo "    WELFORD_CHROME=/path/to/chrome bash scripts/test.sh"
      fi
      if [[ " ${welford_missing[*]} " == *" firefox-esr "* ]]; then
        echo "  Or point at a Firefox you already have (it is launched headless with WebGPU enabled):"
        echo "    WELFORD_FIREFOX=/path/to/firefox bash scripts/test.sh"
      fi
      if [[ " ${welford_missing[*]} " == *" libvulkan1 "* ]]; then
        echo "  Node's WebGPU (Dawn) cannot run without the Vulkan loader libvulkan.so.1."
      fi
      echo "  Without a GPU, Node uses the SwiftShader driver found beside Chromium or Chrome, or the one"
      echo "  named by WELFORD_SWIFTSHADER_ICD=/path/to/vk_swiftshader_icd.json."
    } >&2
    exit 1
  fi
  command -v apt-get >/dev/null || welford_fail "missing ${welford_missing[*]} and there is no apt-get to install them with"
  echo "ensure-system: installing ${welford_missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${welford_missing[@]}" </dev/null >/dev/null
  welford_has_vulkan_loader || welford_fail "libvulkan.so.1 is still missing after installing libvulkan1"
fi

# --- pnpm, pinned -------------------------------------------------------------------------
welford_pnpm_version="$(node -p "require('$welford_root/package.json').packageManager.replace(/^pnpm@/, '')")"
if [ "$(pnpm --version 2>/dev/null || true)" != "$welford_pnpm_version" ]; then
  echo "ensure-system: installing pnpm@$welford_pnpm_version with npm"
  # --force replaces a pnpm binary of another version (a corepack shim, an older install).
  welford_force=()
  if command -v pnpm >/dev/null; then welford_force=(--force); fi
  npm install -g "${welford_force[@]}" --no-audit --no-fund "pnpm@$welford_pnpm_version" >/dev/null ||
    welford_fail "could not install pnpm@$welford_pnpm_version with 'npm install -g' (as a user without write access to npm's global prefix, set npm's prefix to a directory you own, or run as root)"
  PATH="$(npm prefix -g)/bin:$PATH"
  export PATH
  hash -r
  [ "$(pnpm --version 2>/dev/null || true)" = "$welford_pnpm_version" ] ||
    welford_fail "pnpm on PATH is $(command -v pnpm || echo missing), version $(pnpm --version 2>/dev/null || echo none); wanted $welford_pnpm_version"
fi

# Chrome ships the SwiftShader Vulkan driver beside its binary; Node's WebGPU can use it too.
if [ -n "${WELFORD_CHROME:-}" ] && [ -z "${WELFORD_SWIFTSHADER_ICD:-}" ]; then
  welford_icd="$(dirname "$(readlink -f "$WELFORD_CHROME")")/vk_swiftshader_icd.json"
  if [ -f "$welford_icd" ]; then
    export WELFORD_SWIFTSHADER_ICD="$welford_icd"
  fi
fi
