# Kind probe per shape on a trained model: tower feature at the centre patch, projector token at centre.
import sys, json
HERE = __import__('os').path.dirname(__import__('os').path.abspath(__file__))
sys.path.insert(0, HERE + '/..')  # scripts/train
import torch
import data as D, pictures as P, export as X
from model import KimiVL
torch.set_num_threads(1)
d = sys.argv[1]; LIMIT = int(sys.argv[2]) if len(sys.argv) > 2 else 64
m = KimiVL(json.load(open(d + '/config.json'))); X.load_hf(m, d); m.eval()
r = P.mulberry32(9001)
T, Pj, T3, Y, SZ = [], [], [], [], []
with torch.no_grad():
    for i in range(700):
        s = P.make_scene(r)
        patches, grid, info = D.preprocess(D.picture(s), LIMIT)
        t = m.vision_tower([patches], [grid])[0]
        f = m.multi_modal_projector([t], [grid])[0]
        gh, gw = grid; rw, rh = info['resized_wh']; sx, sy = s['width'] / rw, s['height'] / rh
        for o in s['shapes']:
            cx, cy = (o['x'] + o['size'] / 2) / sx, (o['y'] + o['size'] / 2) / sy
            pi, pj = min(gh - 1, int(cy // 14)), min(gw - 1, int(cx // 14))
            T.append(t[pi * gw + pj]); Pj.append(f[(pi // 2) * (gw // 2) + pj // 2])
            # 3x3 neighbourhood mean of tower feats
            nb = [t[a * gw + b] for a in range(max(0, pi-1), min(gh, pi+2)) for b in range(max(0, pj-1), min(gw, pj+2))]
            T3.append(torch.cat([t[pi * gw + pj], torch.stack(nb).mean(0)]))
            Y.append(P.SHAPES.index(o['shape'])); SZ.append(o['size'] / sx)
def fit(Xs, y, ntr):
    X = torch.stack(Xs); mu, sd = X[:ntr].mean(0), X[:ntr].std(0) + 1e-6; X = (X - mu) / sd; y = torch.tensor(y)
    W = torch.zeros(X.shape[1], 3, requires_grad=True); b = torch.zeros(3, requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=0.05)
    for _ in range(400):
        loss = torch.nn.functional.cross_entropy(X[:ntr] @ W + b, y[:ntr]) + 1e-3 * W.pow(2).sum()
        opt.zero_grad(); loss.backward(); opt.step()
    return (X[ntr:] @ W + b).argmax(1) == y[ntr:]
ntr = int(len(Y) * 0.75); sz = torch.tensor(SZ[ntr:])
print('n shapes', len(Y), 'test', len(Y) - ntr)
for name, F in [('tower@centre', T), ('tower centre+3x3', T3), ('projector@centre', Pj)]:
    ok = fit(F, Y, ntr).float()
    bins = [(0, 14), (14, 21), (21, 28), (28, 999)]
    print(f'{name:18s} kind acc {ok.mean():.3f} | by size(px in resized):', ' '.join(f'{a}-{b}:{ok[(sz>=a)&(sz<b)].mean():.2f}(n={int(((sz>=a)&(sz<b)).sum())})' for a, b in bins))
