# Vision-tower-only training on aux.py's dense loss; measures per-shape kind accuracy of the centre head.
import sys, os, time, math, argparse, json
HERE = __import__('os').path.dirname(__import__('os').path.abspath(__file__))
sys.path.insert(0, HERE + '/..')  # scripts/train
import torch
import data as D, pictures as P, aux as A
from pretrain_vision import silhouette
from model import VisionTower
torch.set_num_threads(1)
ap = argparse.ArgumentParser()
ap.add_argument('--limit', type=int, default=64); ap.add_argument('--d', type=int, default=64)
ap.add_argument('--layers', type=int, default=3); ap.add_argument('--heads', type=int, default=4)
ap.add_argument('--pics', type=int, default=24); ap.add_argument('--secs', type=float, default=240)
ap.add_argument('--lr', type=float, default=2e-3); ap.add_argument('--kindw', type=float, default=1.0)
ap.add_argument('--maxside', type=int, default=448); ap.add_argument('--posw', type=float, default=1.0)
ap.add_argument('--cache', type=int, default=0); ap.add_argument('--mask', type=int, default=0); ap.add_argument('--maskw', type=float, default=1.0)
a = ap.parse_args()
torch.manual_seed(1)
vc = {'hidden_size': a.d, 'num_attention_heads': a.heads, 'num_hidden_layers': a.layers,
      'intermediate_size': 2 * a.d, 'init_pos_emb_height': 8, 'init_pos_emb_width': 8}
tower = VisionTower(vc); head = A.AuxHead(a.d)
K = a.mask
mhead = torch.nn.Linear(a.d, max(1, K * K * 5))
def fine(s, info):
    # [h*w, K*K] class per fine point: 0 pad, 1 background, 2.. shape kind (the trainer's own target)
    return silhouette(s, info, K)
opt = torch.optim.AdamW(list(tower.parameters()) + list(head.parameters()) + list(mhead.parameters()), lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
def sample(r, maxside=448):
    s = P.make_scene(r)
    while max(s['width'], s['height']) > maxside: s = P.make_scene(r)
    p, g, info = D.preprocess(D.picture(s), a.limit)
    return s, p, g, info, A.targets(s, info), (fine(s, info) if K else None)
er = P.mulberry32(424242); EV = [sample(er) for _ in range(250)]
# centre-class weights: upweight the shape classes in the centre term (index 8 + 0)
cw = torch.ones(len(A.CLASSES)); cw[2:] = a.posw
def loss_fn(feats, tgt):
    out = head.proj(feats); ce = torch.nn.functional.cross_entropy
    nc = len(A.CLASSES); y = out[:, :4 * A.PER_POINT].reshape(-1, 4, A.PER_POINT); pts = tgt[:, :8].view(-1, 4, 2)
    l = a.kindw * ce(y[..., :nc].reshape(-1, nc), pts[..., 0].flatten()) + ce(y[..., nc:].reshape(-1, len(A.COLOURS)), pts[..., 1].flatten())
    at = 4 * A.PER_POINT
    for j, n in enumerate(A.GLOBAL):
        w = cw if j == 0 else None
        l = l + (a.kindw if j == 0 else 1.0) * ce(out[:, at:at + n], tgt[:, 8 + j], weight=w); at += n
    return l
@torch.no_grad()
def evaluate():
    tower.eval(); ok, sz, det = [], [], []
    for s, p, g, info, tg, _ in EV:
        t = tower([p], [g])[0]; out = head.proj(t); at = 4 * A.PER_POINT; cen = out[:, at:at + len(A.CLASSES)]
        gh, gw = g; rw, rh = info['resized_wh']; sx = s['width'] / rw; sy = s['height'] / rh
        for o in s['shapes']:
            cx, cy = (o['x'] + o['size'] / 2) / sx, (o['y'] + o['size'] / 2) / sy
            i = min(gh - 1, int(cy // 14)) * gw + min(gw - 1, int(cx // 14))
            ok.append(int(cen[i, 2:].argmax()) + 2 == A.CLASSES.index(o['shape'])); sz.append(o['size'] / sx)
        # detection: patches predicted as a shape centre (argmax) vs truth
        det.append(float(((cen.argmax(1) >= 2) == (tg[:, 8] >= 2)).float().mean()))
    tower.train(); ok = torch.tensor(ok).float(); sz = torch.tensor(sz)
    bins = [(0, 14), (14, 21), (21, 28), (28, 999)]
    return f'kind {ok.mean():.3f} [' + ' '.join(f'{x}-{y}:{ok[(sz>=x)&(sz<y)].mean():.2f}' for x, y in bins) + f'] centre-det patch acc {sum(det)/len(det):.3f}'
r = P.mulberry32(5); start = time.time(); step = 0; tdata = 0; tcomp = 0
pool = []
while time.time() - start < a.secs:
    frac = (time.time() - start) / a.secs
    lr = a.lr * min(1, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
    for gr in opt.param_groups: gr['lr'] = lr
    t0 = time.time()
    batch = [sample(r, a.maxside) for _ in range(a.pics)]
    t1 = time.time(); tdata += t1 - t0
    feats = tower([b[1] for b in batch], [b[2] for b in batch])
    ff = torch.cat(feats); loss = loss_fn(ff, torch.cat([b[4] for b in batch]))
    if K: loss = loss + a.maskw * torch.nn.functional.cross_entropy(mhead(ff).view(-1, 5), torch.cat([b[5] for b in batch]).flatten())
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(tower.parameters(), 1.0); opt.step()
    tcomp += time.time() - t1; step += 1
    if step % 200 == 0: print(f'step {step} {time.time()-start:.0f}s loss {loss.item():.3f}', flush=True)
print(json.dumps(vars(a)), f'steps {step} data {tdata/step:.3f}s/step compute {tcomp/step:.3f}s/step')
print('EVAL', evaluate(), flush=True)
torch.save({'tower': tower.state_dict(), 'head': head.state_dict(), 'vc': vc}, f'vt_{a.limit}_{a.d}_{a.layers}_{a.kindw}_{a.posw}_{K}.pt')
