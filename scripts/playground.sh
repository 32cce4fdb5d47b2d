#!/usr/bin/env bash
# Starts the playground on a fresh Debian machine with Node.js 20 and npm: installs what is
# missing (pnpm; as root also the Debian packages scripts/ensure-system.sh lists, Fashion-MNIST
# among them), the dependencies from the lockfile, packs the datasets and serves the page with
# Vite, which prints the address it serves on (5173, or the next free port) and what the browser
# needs (WebGPU: a Chromium-based browser, or Firefox or Safari where WebGPU is enabled).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/ensure-system.sh
pnpm install --frozen-lockfile
exec pnpm --filter @welford/playground dev "$@"
