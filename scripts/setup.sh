#!/usr/bin/env bash
# Installs what kimi-vl-web needs on a fresh Debian machine with Node 20: npm packages and, for the
# browser test tiers and the CLI, Debian's Chromium. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_chromium="${1:-}"
if [ "$need_chromium" = "--with-chromium" ] && [ ! -x "${KIMI_VL_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "[setup] installing Debian's chromium (WebGPU runs on SwiftShader when there is no GPU)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci"
  npm ci --no-audit --no-fund
fi
