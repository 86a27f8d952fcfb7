#!/usr/bin/env bash
# `npm start`: set up, then serve the demo (the bundled tiny model loads by default).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PORT="${PORT:-5173}"
echo "[start] demo at http://localhost:${PORT}/ (WebGPU needs a secure context: use localhost or https)"
exec npx vite --port "$PORT" --strictPort --host 127.0.0.1
