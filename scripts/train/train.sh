#!/usr/bin/env bash
# Retrains the bundled tiny models (issue 16) on CPU with fixed seeds and rewrites their golden cases:
#   public/models/kimi-vl-tiny-instruct/   55 min from scratch, on one core
#   public/models/kimi-vl-tiny-thinking/   the same 55 min on the other core, side by side
#   tests/golden-trained/                  PyTorch logits for a few prompts (`kimi-vl golden` checks them)
# Needs Debian's python3-torch, python3-numpy, python3-pil (and libopenblas0-pthread: the default
# reference BLAS is ~10x slower). Not run in CI. Minutes are wall-clock budgets: the schedules adapt,
# so a busy machine gives fewer steps (and worse models): the trainers raise their own priority.
#   usage: bash scripts/train/train.sh [minutes]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
TOK=$(mktemp -d)
npx tsx scripts/train/make_tokenizer.ts "$TOK"
export OPENBLAS_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
rm -rf tests/golden-trained
pids=()
for variant in instruct thinking; do
  # setsid: its own scheduler autogroup, so the niceness counts against the machine's other sessions too
  setsid nice -n -15 $PY scripts/train/train.py --variant $variant --minutes "${1:-55}" --tokenizer "$TOK" \
    --out public/models/kimi-vl-tiny-$variant --golden tests/golden-trained --eval-every 1500 \
    > "$TOK/$variant.log" 2>&1 &
  pids+=($!)
done
sleep 2
for p in $(pgrep -f "scripts/train/train.py --variant"); do echo -15 > "/proc/$p/autogroup" 2>/dev/null || true; done
tail -f "$TOK/instruct.log" & tailer=$!
for p in "${pids[@]}"; do wait "$p"; done
kill "$tailer"
tail -n 5 "$TOK/thinking.log"
node bin/kimi-vl.mjs golden tests/golden-trained --backend ref
