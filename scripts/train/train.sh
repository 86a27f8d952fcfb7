#!/usr/bin/env bash
# Retrains the bundled tiny models (issue 16) on CPU with fixed seeds and rewrites their golden cases:
#   public/models/kimi-vl-tiny-instruct/   50 min from scratch
#   public/models/kimi-vl-tiny-thinking/   10 min more, starting from the Instruct weights
#   tests/golden-trained/                  PyTorch logits for a few prompts (`kimi-vl golden` checks them)
# Needs Debian's python3-torch, python3-numpy, python3-pil (and libopenblas0-pthread: the default
# reference BLAS is ~10x slower). Not run in CI. Minutes are wall-clock budgets: the schedules adapt.
#   usage: bash scripts/train/train.sh [instruct-minutes] [thinking-minutes]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
TOK=$(mktemp -d)
npx tsx scripts/train/make_tokenizer.ts "$TOK"
export OPENBLAS_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
rm -rf tests/golden-trained
nice -n 10 $PY scripts/train/train.py --variant instruct --minutes "${1:-50}" --tokenizer "$TOK" \
  --out public/models/kimi-vl-tiny-instruct --golden tests/golden-trained --eval-every 500
nice -n 10 $PY scripts/train/train.py --variant thinking --minutes "${2:-10}" --tokenizer "$TOK" \
  --init public/models/kimi-vl-tiny-instruct --lr 1e-3 --warmup 20 \
  --out public/models/kimi-vl-tiny-thinking --golden tests/golden-trained --eval-every 500
node bin/kimi-vl.mjs golden tests/golden-trained --backend ref
