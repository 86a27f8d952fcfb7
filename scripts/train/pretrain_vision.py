"""Tower-only pretraining of the tiny model's MoonViT on aux.py's dense loss (issue 16), before the joint
run (train.py --vision-init). From the answers alone a from-scratch tower learns colours but not shape
kinds; on the dense loss alone it learns kinds too, but only after many thousands of small steps (the
research notes in research/ stopped at 7 minutes, where it looked like a plateau at ~58 %: at 10 minutes
it was at 83 % and still rising). So it gets its own budget, with:
  - 8 pictures a step (more, smaller steps beat bigger ones here),
  - the shape-kind terms weighted x2 and the shape classes of the centre term x10 (a picture has 1-3
    centres among ~64 patches),
  - a 7 x 7 silhouette target per patch (what covers each point: pad / background / kind), the local
    evidence that tells a circle's arc from a square's corner,
  - pictures drawn and rasterised by a worker process on the second core (about half of each step's
    time otherwise), each from its own seed, so the run is deterministic.
Writes {'tower', 'head'} state dicts and prints the held-out per-shape kind accuracy by size.

  /usr/bin/python3 scripts/train/pretrain_vision.py --minutes 22 --out /tmp/vision.pt
"""
import argparse
import collections
import math
import multiprocessing as mp
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import aux as A  # noqa: E402
import data as D  # noqa: E402
import pictures as P  # noqa: E402
from model import VisionTower  # noqa: E402

FINE = 7          # silhouette points per patch side
KIND_W = 2.0      # weight of the shape-kind terms
CENTRE_W = 10.0   # weight of the shape classes in the centre term


def silhouette(scene, info, k=FINE):
    """[h*w, k*k] int64: what covers each point of a k x k grid in every patch (aux.CLASSES index)."""
    (gh, gw), (rw, rh) = info['grid_hw'], info['resized_wh']
    sx, sy = scene['width'] / rw, scene['height'] / rh
    x, y = np.meshgrid((np.arange(gw * k) + 0.5) * 14 / k, (np.arange(gh * k) + 0.5) * 14 / k)
    lab = np.where((x < rw) & (y < rh), 1, 0)
    for o in scene['shapes']:
        ins = P.inside(o['shape'], x * sx, y * sy, o['x'], o['y'], o['size']) & (lab > 0)
        lab = np.where(ins, A.CLASSES.index(o['shape']), lab)
    lab = lab.reshape(gh, k, gw, k).transpose(0, 2, 1, 3).reshape(gh * gw, k * k)
    return torch.from_numpy(lab.astype(np.int64))


def sample(seed, limit):
    """One training picture from its own seed: (scene, patches, grid, info, aux targets, silhouette)."""
    scene = P.make_scene(P.mulberry32(seed))
    patches, grid, info = D.preprocess(D.picture(scene), limit)
    return scene, patches, grid, info, A.targets(scene, info), silhouette(scene, info)


def _sample_batch(args):
    seeds, limit = args
    torch.set_num_threads(1)
    return [sample(s, limit)[1:] for s in seeds]


class DenseLoss(nn.Module):
    """aux.AuxHead's terms with the kind weights above, plus the silhouette term."""

    def __init__(self, d):
        super().__init__()
        self.head = A.AuxHead(d)
        self.fine = nn.Linear(d, FINE * FINE * len(A.CLASSES))
        w = torch.ones(len(A.CLASSES))
        w[2:] = CENTRE_W
        self.register_buffer('centre_w', w)

    def forward(self, feats, tgt, sil):
        fine = nn.functional.cross_entropy(self.fine(feats).view(-1, len(A.CLASSES)), sil.flatten())
        return self.head.loss(feats, tgt, KIND_W, self.centre_w) + fine


@torch.no_grad()
def kind_accuracy(tower, head, held_out):
    """Per-shape kind accuracy of the centre term at each shape's centre patch, overall and by the
    shape's width after the resize (px)."""
    tower.eval()
    ok, size = [], []
    for scene, patches, grid, info, _, _ in held_out:
        out = head.proj(tower([patches], [grid])[0])
        at = 4 * A.PER_POINT
        centre = out[:, at:at + len(A.CLASSES)]
        (gh, gw), (rw, rh) = grid, info['resized_wh']
        sx, sy = scene['width'] / rw, scene['height'] / rh
        for o in scene['shapes']:
            cx, cy = (o['x'] + o['size'] / 2) / sx, (o['y'] + o['size'] / 2) / sy
            i = min(gh - 1, int(cy // 14)) * gw + min(gw - 1, int(cx // 14))
            ok.append(int(centre[i, 2:].argmax()) + 2 == A.CLASSES.index(o['shape']))
            size.append(o['size'] / sx)
    tower.train()
    ok, size = torch.tensor(ok).float(), torch.tensor(size)
    bins = [(0, 14), (14, 21), (21, 28), (28, 1e9)]
    by = ' '.join(f'{lo:g}-{hi:g}px {ok[(size >= lo) & (size < hi)].mean():.3f}' for lo, hi in bins)
    return f'kind {ok.mean():.3f} over {len(ok)} shapes ({by})'


def main():
    from train import LIMIT, make_config  # the vision config the joint run builds
    ap = argparse.ArgumentParser()
    ap.add_argument('--minutes', type=float, default=22)
    ap.add_argument('--out', required=True)
    ap.add_argument('--pictures', type=int, default=8)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--eval-every', type=float, default=5, help='minutes between held-out evaluations')
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    vc = make_config(64)['vision_config']
    tower, loss_fn = VisionTower(vc), DenseLoss(vc['hidden_size'])
    params = list(tower.parameters()) + list(loss_fn.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    held_out = [sample(424242 + i, LIMIT) for i in range(250)]  # seeds far from the training ones
    base = a.seed * 10_000_000
    seeds = lambda i: (list(range(base + i * a.pictures, base + (i + 1) * a.pictures)), LIMIT)  # noqa: E731
    start, budget, step = time.time(), a.minutes * 60, 0
    next_eval = a.eval_every * 60
    with mp.get_context('fork').Pool(1) as pool:  # the second core draws the pictures, 4 batches ahead
        ahead = collections.deque(pool.apply_async(_sample_batch, (seeds(i),)) for i in range(4))
        while time.time() - start < budget:
            frac = (time.time() - start) / budget
            lr = a.lr * min(1, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            for g in opt.param_groups:
                g['lr'] = lr
            batch = ahead.popleft().get()
            ahead.append(pool.apply_async(_sample_batch, (seeds(step + 4),)))
            feats = torch.cat(tower([b[0] for b in batch], [b[1] for b in batch]))
            loss = loss_fn(feats, torch.cat([b[3] for b in batch]), torch.cat([b[4] for b in batch]))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            if step % 500 == 0:
                print(f'vision step {step} {time.time() - start:.0f}s loss {loss.item():.3f}', flush=True)
            if time.time() - start > next_eval:
                next_eval += a.eval_every * 60
                print(f'  held-out {kind_accuracy(tower, loss_fn.head, held_out)}', flush=True)
    print(f'done: {step} steps in {time.time() - start:.0f}s, held-out {kind_accuracy(tower, loss_fn.head, held_out)}',
          flush=True)
    torch.save({'tower': tower.state_dict(), 'head': loss_fn.head.state_dict(), 'vision_config': vc}, a.out)
    print('wrote', a.out, flush=True)


if __name__ == '__main__':
    main()
