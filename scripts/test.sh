#!/usr/bin/env bash
# The project's test command. On a fresh Debian machine with Node.js 20 and npm (as root) it
# installs what is missing (pnpm, Chromium, Firefox ESR, the Vulkan loader), the dependencies
# from the lockfile, then runs everything: shader embedding, type-check, unit tests on the real
# WebGPU adapter, the browser tests in headless Chromium and Firefox, and the browser benchmarks
# in quick mode in both.
# Works without a terminal (CI=true).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/ensure-system.sh

# The Vulkan loader complains on every device creation when XDG_RUNTIME_DIR is unusable.
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ] || [ ! -O "$XDG_RUNTIME_DIR" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d "${TMPDIR:-/tmp}/welford-xdg.XXXXXX")"
  chmod 700 "$XDG_RUNTIME_DIR"
  export XDG_RUNTIME_DIR
  trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
fi

# Every dependency's install script is allowed or refused in pnpm-workspace.yaml: an install that
# reports one it ignored (a new dependency) fails here rather than leaving users a warning box.
install_log="$(mktemp "${TMPDIR:-/tmp}/welford-install.XXXXXX")"
pnpm install --frozen-lockfile </dev/null 2>&1 | tee "$install_log"
if grep -q "Ignored build scripts" "$install_log"; then
  echo "test: pnpm install ignored a dependency's build script; allow or refuse it in pnpm-workspace.yaml (onlyBuiltDependencies / ignoredBuiltDependencies)" >&2
  exit 1
fi
rm -f "$install_log"
pnpm test </dev/null
# The browser benchmarks once, quickly, in each browser engine, as a smoke test: every row must
# be produced (it fails on a missing row or a page error); the speed it prints is not judged.
pnpm bench --quick </dev/null
pnpm bench --quick --browser firefox </dev/null
