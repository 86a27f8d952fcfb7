# s/step of the full joint training step (6 pictures x 4 questions + 1 text) at given limit / vision dims.
import sys, os, time, json, argparse
HERE = __import__('os').path.dirname(__import__('os').path.abspath(__file__))
sys.path.insert(0, HERE + '/..')  # scripts/train
import torch
import data as D, pictures as P, aux as A
from model import KimiVL
from tokenizer import Tokenizer
import train as TR
torch.set_num_threads(1)
ap = argparse.ArgumentParser(); ap.add_argument('--limit', type=int, default=64); ap.add_argument('--d', type=int, default=64)
ap.add_argument('--layers', type=int, default=3); ap.add_argument('--steps', type=int, default=25); ap.add_argument('--maxside', type=int, default=448)
a = ap.parse_args()
td = HERE + '/../../../public/models/kimi-vl-tiny-instruct'
tok = Tokenizer(td + '/tiktoken.model', json.load(open(td + '/tokenizer_config.json')))
c = TR.make_config(tok.num_base + 32); c['vision_config'].update(hidden_size=a.d, intermediate_size=2 * a.d, num_hidden_layers=a.layers)
m = KimiVL(c); head = A.AuxHead(a.d); params = list(m.parameters())
opt = torch.optim.AdamW(params + list(head.parameters()), lr=1e-3)
print('params', sum(p.numel() for p in params))
r = P.mulberry32(3); pad = c['text_config']['pad_token_id']; td_, tc_ = 0, 0
for step in range(a.steps):
    t0 = time.time()
    groups = [D.make_group(r, tok, a.limit, False, a.maxside) for _ in range(6)]
    texts = [D.text_sample(r, tok, False)]
    ids, mask, patches, grids, aux_tgt, pic = D.collate_groups(groups, texts, pad)
    t1 = time.time()
    tower = m.vision_tower(patches, grids); feats = m.multi_modal_projector(tower, grids)
    logits = m(ids, feats=[feats[k] for k in pic if k >= 0])
    loss = torch.nn.functional.cross_entropy(logits[:, :-1][mask[:, :-1]], ids[:, 1:][mask[:, :-1]]) + head.loss(torch.cat(tower), aux_tgt)
    opt.zero_grad(); loss.backward(); opt.step()
    if step >= 5: td_ += t1 - t0; tc_ += time.time() - t1
n = a.steps - 5
print(f'TIME limit {a.limit} d {a.d} L {a.layers} maxside {a.maxside}: data {td_/n:.3f} compute {tc_/n:.3f} total {(td_+tc_)/n:.3f} s/step; T={ids.shape[1]}')
