#!/usr/bin/env bash
# Retrains the bundled tiny models (issue 16) on CPU with fixed seeds and rewrites their golden cases:
#   public/models/kimi-vl-tiny-instruct/   from scratch            (default 48 min)
#   public/models/kimi-vl-tiny-thinking/   fine-tuned from Instruct (default 12 min)
#   tests/golden-trained/                  PyTorch logits for a few prompts (`kimi-vl golden` checks them)
# The bundled models were made with `bash scripts/train/train.sh 55 13` on a 2-core machine.
# Needs Debian's python3-torch, python3-numpy, python3-pil (and libopenblas0-pthread: the default
# reference BLAS is ~10x slower). Not run in CI. Minutes are wall-clock budgets: the schedules adapt,
# so a busy machine gives fewer steps (and worse models): the trainer raises its own priority.
#   usage: bash scripts/train/train.sh [instruct-minutes] [thinking-minutes]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
TOK=$(mktemp -d)
npx tsx scripts/train/make_tokenizer.ts "$TOK"
export OPENBLAS_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
rm -rf tests/golden-trained

train() { # setsid: its own scheduler autogroup, so the niceness counts against the machine's other sessions
  setsid nice -n -15 $PY scripts/train/train.py "$@" &
  local pid=$!
  sleep 1
  echo -15 > "/proc/$pid/autogroup" 2>/dev/null || true
  wait "$pid"
}
train --variant instruct --minutes "${1:-48}" --curriculum 0.3 --tokenizer "$TOK" \
  --out public/models/kimi-vl-tiny-instruct --golden tests/golden-trained --eval-every 1500
train --variant thinking --minutes "${2:-12}" --init public/models/kimi-vl-tiny-instruct --lr 1e-3 --warmup 20 \
  --curriculum 0 --bf16-from 0.6 --tokenizer "$TOK" \
  --out public/models/kimi-vl-tiny-thinking --golden tests/golden-trained --eval-every 1000 --final-eval 60
node bin/kimi-vl.mjs golden tests/golden-trained --backend ref
