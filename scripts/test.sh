#!/usr/bin/env bash
# `npm test`: set up (npm packages + Debian's Chromium), then run every tier and print the totals:
#   static   tsc --noEmit, biome (lint + format), the architecture check (no import circle, layers point
#            down, no file over 400 lines: scripts/check_architecture.ts), npm pack, publint and
#            @arethetypeswrong/cli on the tarball
#   unit     Node: references, parsers, tokenizer, preprocessing, CPU-reference goldens
#   gpu      kernels against their references in headless Chromium with WebGPU
#   e2e      Playwright: weights loading, the worker API, the demo, the drop-in script
#   consumer the tarball in a fresh Vite + TypeScript app (tsc, vite build, vite preview, the engine in a
#            worker in Chromium) and `npx kimi-vl` from a fresh `npm i <tarball>` (scripts/consumer/)
#   golden   kimi-vl golden ../shared/golden (every case, through the engine in Chromium; again under
#            16 and 32 KiB binding limits, and converted to q8 and q4) and tests/golden-trained (the
#            bundled trained models)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-chromium || exit 1

OUT=.cache/test-results
rm -rf "$OUT"; mkdir -p "$OUT"
status=0
step() { echo; echo "════ $1"; }

step "static: tsc --noEmit, biome, architecture, package (publint, attw)"
static_passed=0; static_failed=0; static_failures=""
check() { # name, command...: one static check, counted
  local name="$1"; shift
  if "$@" > "$OUT/static-$name.txt" 2>&1; then echo "static: $name passed"; static_passed=$((static_passed + 1))
  else tail -40 "$OUT/static-$name.txt"; echo "static: $name FAILED"; static_failed=$((static_failed + 1)); status=1
    static_failures="$static_failures${static_failures:+, }\"$name\""; fi
}
check tsc npx tsc --noEmit -p .
check biome npx biome check . --diagnostic-level=error
check architecture npx tsx scripts/check_architecture.ts
tail -1 "$OUT/static-architecture.txt"
# The package as published: `npm pack` builds it (prepack); the consumer tier installs this same tarball.
PACK_DIR=.cache/pack
rm -rf "$PACK_DIR"; mkdir -p "$PACK_DIR"
check pack npm pack --pack-destination "$PACK_DIR" --loglevel=error
TARBALL=$(ls "$PACK_DIR"/*.tgz 2>/dev/null | head -1)
check publint npx publint run "${TARBALL:-missing.tgz}" --strict
check attw npx attw "${TARBALL:-missing.tgz}" --profile esm-only
echo "{\"passed\": $static_passed, \"failed\": $static_failed, \"failures\": [$static_failures]}" > "$OUT/static.json"

step "unit (Node)"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$OUT/unit.json" || status=1

step "gpu (headless Chromium, WebGPU)"
npx vitest run --project gpu --reporter=default --reporter=json --outputFile.json="$OUT/gpu.json" || status=1

step "e2e (Playwright)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$OUT/e2e.json" npx playwright test --reporter=list,json || status=1

step "consumer (the tarball in a fresh Vite app; npx kimi-vl from a fresh install)"
npx tsx scripts/consumer/consumer.ts "$OUT/consumer.json" ${TARBALL:+--tarball "$TARBALL"} || status=1

GOLDEN_DIR="${KIMI_VL_GOLDEN:-../shared/golden}"
step "golden ($GOLDEN_DIR)"
if [ -d "$GOLDEN_DIR" ]; then
  node bin/kimi-vl.mjs golden "$GOLDEN_DIR" --json-out "$OUT/golden.json" || status=1
  # Under tiny binding limits every tensor, activation and upload must be split into parts (#12).
  for kib in 16 32; do
    node bin/kimi-vl.mjs golden "$GOLDEN_DIR" --max-binding-bytes $((kib * 1024)) \
      --json-out "$OUT/golden-${kib}k.json" || status=1
  done
  # Converted checkpoints: judged against the reference backend on the same quantised weights (derive.ts).
  for q in q8 q4; do
    node bin/kimi-vl.mjs golden "$GOLDEN_DIR" --converted $q --json-out "$OUT/golden-$q.json" || status=1
  done
else
  echo "golden directory $GOLDEN_DIR not found (set KIMI_VL_GOLDEN)"; status=1
fi

step "golden, trained tiny models (tests/golden-trained: PyTorch logits on the bundled weights)"
node bin/kimi-vl.mjs golden tests/golden-trained --json-out "$OUT/golden-trained.json" || status=1

step "totals"
npx tsx scripts/test_summary.ts "$OUT" || status=1
exit $status
