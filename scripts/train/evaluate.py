"""Greedy exact-answer accuracy of a written checkpoint in PyTorch, per question form (a quick proxy
for e2e/accuracy.spec.ts, which asks the same through the engine).
  /usr/bin/python3 scripts/train/evaluate.py public/models/kimi-vl-tiny-instruct [count] [seed]"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import export as X  # noqa: E402
import pictures as P  # noqa: E402
from model import KimiVL  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402
from train import generate  # noqa: E402


def main():
    d = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261216
    torch.set_num_threads(1)
    model = KimiVL(json.load(open(os.path.join(d, 'config.json'))))
    X.load_hf(model, d)
    model.eval()
    tok = Tokenizer(os.path.join(d, 'tiktoken.model'), json.load(open(os.path.join(d, 'tokenizer_config.json'))))
    thinking = 'thinking' in d
    r = P.mulberry32(seed)
    per, wrong = {}, []
    for i in range(n):
        scene = P.make_scene(r)
        qs = P.QUESTIONS + [f'Is there a {P.SHAPES[i % 3]}?']
        for q in qs:
            got = generate(model, tok, scene, q)
            if thinking:
                got = got.split(P.THINK_END, 1)[-1]
            ok = got == P.answer(scene, q)
            k = q if q in P.QUESTIONS else 'Is there a ...?'
            per.setdefault(k, [0, 0])[0] += ok
            per[k][1] += 1
            if not ok:
                wrong.append((scene['width'], scene['height'], q, got, P.answer(scene, q)))
    total = sum(v[0] for v in per.values()) / sum(v[1] for v in per.values())
    print(json.dumps({'accuracy': total, 'per_question': per}, indent=1))
    for w in wrong[:15]:
        print(w)


if __name__ == '__main__':
    main()
