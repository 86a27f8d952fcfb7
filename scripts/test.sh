#!/usr/bin/env bash
# `npm test`: set up (npm packages + Debian's Chromium), then run every tier and print the totals:
#   static   tsc --noEmit and biome (lint + format)
#   unit     Node: references, parsers, tokenizer, preprocessing, CPU-reference goldens
#   gpu      kernels against their references in headless Chromium with WebGPU
#   e2e      Playwright: weights loading, the worker API, the demo, the drop-in script
#   golden   kimi-vl golden ../shared/golden (every case, through the engine in Chromium)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-chromium || exit 1

OUT=.cache/test-results
rm -rf "$OUT"; mkdir -p "$OUT"
status=0
step() { echo; echo "════ $1"; }

step "static: tsc --noEmit, biome"
npx tsc --noEmit -p . && npx biome check . --diagnostic-level=error > "$OUT/biome.txt" 2>&1 \
  && echo "static checks passed" || { cat "$OUT/biome.txt" | tail -40; echo "static: FAILED"; status=1; }
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({passed: process.argv[2]==="0"?1:0, failed: process.argv[2]==="0"?0:1}))' "$OUT/static.json" "$status"

step "unit (Node)"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$OUT/unit.json" || status=1

step "gpu (headless Chromium, WebGPU)"
npx vitest run --project gpu --reporter=default --reporter=json --outputFile.json="$OUT/gpu.json" || status=1

step "e2e (Playwright)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$OUT/e2e.json" npx playwright test --reporter=list,json || status=1

GOLDEN_DIR="${KIMI_VL_GOLDEN:-../shared/golden}"
step "golden ($GOLDEN_DIR)"
if [ -d "$GOLDEN_DIR" ]; then
  node bin/kimi-vl.mjs golden "$GOLDEN_DIR" --json-out "$OUT/golden.json" || status=1
else
  echo "golden directory $GOLDEN_DIR not found (set KIMI_VL_GOLDEN)"; status=1
fi

step "totals"
npx tsx scripts/test_summary.ts "$OUT" || status=1
exit $status
