"""Trains a tiny Kimi-VL (Instruct or Thinking) on the shape-picture task and writes the checkpoint and
its golden cases. CPU only, fixed seeds. Run through scripts/train/train.sh (tokenizer first).

  /usr/bin/python3 scripts/train/train.py --variant instruct --minutes 55 \
      --tokenizer <dir> --out public/models/kimi-vl-tiny-instruct --golden tests/golden-trained
"""
import argparse
import collections
import json
import math
import multiprocessing as mp
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import aux as A  # noqa: E402
import data as D  # noqa: E402
import export as X  # noqa: E402
import golden as G  # noqa: E402
import pictures as P  # noqa: E402
from model import KimiVL  # noqa: E402
from tokenizer import Tokenizer, check_tokenizer  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '../..'))
LIMIT = 64  # in_token_limit: at most ~8x8 patches per picture (cheap enough to train on 2 shared cores)
AHEAD = 3   # steps of pictures the worker draws ahead


def make_config(vocab):
    s = vocab - 32
    return {
        'architectures': ['KimiVLForConditionalGeneration'],
        'vision_config': {'model_type': 'moonvit', 'patch_size': 14, 'num_attention_heads': 4, 'num_hidden_layers': 4,
                          'hidden_size': 64, 'intermediate_size': 128, 'init_pos_emb_height': 8,
                          'init_pos_emb_width': 8, 'merge_kernel_size': [2, 2], 'torch_dtype': 'bfloat16'},
        'text_config': {
            'vocab_size': vocab, 'max_position_embeddings': 4096, 'hidden_size': 96, 'intermediate_size': 192,
            'moe_intermediate_size': 48, 'num_hidden_layers': 3, 'num_attention_heads': 4, 'n_shared_experts': 1,
            'n_routed_experts': 8, 'ep_size': 1, 'routed_scaling_factor': 2.446, 'kv_lora_rank': 32,
            'q_lora_rank': None, 'qk_rope_head_dim': 8, 'v_head_dim': 16, 'qk_nope_head_dim': 16,
            'topk_method': 'noaux_tc', 'n_group': 1, 'topk_group': 1, 'num_experts_per_tok': 2, 'moe_layer_freq': 1,
            'first_k_dense_replace': 1, 'norm_topk_prob': True, 'scoring_func': 'sigmoid', 'aux_loss_alpha': 0.001,
            'seq_aux': True, 'num_key_value_heads': 4, 'hidden_act': 'silu', 'initializer_range': 0.02,
            'rms_norm_eps': 1e-05, 'pretraining_tp': 1, 'use_cache': True, 'rope_theta': 800000.0,
            'rope_scaling': None, 'attention_bias': False, 'attention_dropout': 0.0, 'bos_token_id': s,
            'pad_token_id': vocab - 1, 'eos_token_id': s + 1, 'torch_dtype': 'bfloat16', 'tie_word_embeddings': False},
        'ignore_index': -100, 'media_placeholder_token_id': s + 21, 'torch_dtype': 'bfloat16',
        'transformers_version': '4.50.3', 'tie_word_embeddings': False, 'vocab_size': vocab, 'model_type': 'kimi_vl',
    }


@torch.no_grad()
def generate(model, tok, scene, question, max_new=80):
    """Greedy answer text (stops at <|im_end|>), as the engine's greedy decoding would give."""
    if scene is None:
        ids, feats = tok.encode(D.prompt_text(question, None)), None
    else:
        patches, grid, _ = D.preprocess(D.picture(scene), LIMIT)
        ids = tok.encode(D.prompt_text(question, grid[0] * grid[1] // 4))
        feats = model.image_features([patches], [grid])
    end = tok.special['<|im_end|>']
    out = []
    for _ in range(max_new):
        nxt = int(model(torch.tensor([ids + out]), feats=feats)[0, -1].argmax())
        if nxt == end:
            break
        out.append(nxt)
    return tok.decode(out)


def evaluate(model, tok, thinking, seed, n):
    r = P.mulberry32(seed)
    ok = 0
    for _ in range(n):
        scene, q = P.make_scene(r), P.pick_question(r)
        want = (P.thinking_answer if thinking else P.answer)(scene, q)
        ok += generate(model, tok, scene, q) == want
    return ok / n


_TOK = None  # the tokenizer, for the forked picture worker (set before the pool starts)


def step_data(args):
    """One step's pictures (asked their questions) and text samples, from the step's own seed: drawn by
    the worker process on the second core, a few steps ahead, so the run stays deterministic."""
    seed, thinking, max_side, pictures, n_texts, questions = args
    torch.set_num_threads(1)
    r = P.mulberry32(seed)
    groups = [D.make_group(r, _TOK, LIMIT, thinking, max_side, questions) for _ in range(pictures)]
    return groups, [D.text_sample(r, _TOK, thinking) for _ in range(n_texts)]


def vision_step(model, head, opt, r, tok, pictures, step, start):
    """One tower-only step on the dense loss (aux.py): the tower learns shapes before the LM reads it."""
    groups = [D.make_group(r, tok, LIMIT, False) for _ in range(pictures)]
    tower = model.vision_tower([g[0] for g in groups], [g[1] for g in groups])
    loss = head.loss(torch.cat(tower), torch.cat([g[2] for g in groups]))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(model.vision_tower.parameters()), 1.0)
    opt.step()
    if step % 50 == 0:
        print(f'vision step {step} {time.time() - start:.0f}s aux {loss.item():.4f}', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--variant', choices=['instruct', 'thinking'], required=True)
    ap.add_argument('--minutes', type=float, default=45)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--golden', required=True)
    ap.add_argument('--vision-warmup', type=float, default=0,
                    help='minutes of tower-only training on the dense loss first (cheap steps, many pictures)')
    ap.add_argument('--curriculum', type=float, default=0.4,
                    help='fraction of the budget over which the largest picture side grows from 84 to 448 px')
    ap.add_argument('--pictures', type=int, default=6, help='pictures per step, each asked all four questions')
    ap.add_argument('--texts', type=int, default=1, help='text-only samples per step')
    ap.add_argument('--aux', type=float, default=1.0, help='weight of the dense vision loss (aux.py)')
    ap.add_argument('--bf16-from', type=float, default=0.75,
                    help='fraction of the budget after which the forward pass sees bf16-rounded weights')
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument('--init', help='start from this checkpoint folder (fine-tuning a trained model)')
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument("--final-eval", type=int, default=100)
    ap.add_argument('--vision-init', help='the tower and its dense head from pretrain_vision.py')
    ap.add_argument('--vision-lr', type=float, default=1.0, help='the tower\'s learning rate, as a multiple of --lr')
    ap.add_argument('--questions', choices=['all', 'listing', 'presence'], default='all',
                    help='per picture: all four question forms, the listing and one other, or the listing, one '
                         'other and a present and an absent shape (data.make_group)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    thinking = a.variant == 'thinking'
    torch.manual_seed(a.seed + (100 if thinking else 0))
    tok = Tokenizer(os.path.join(a.tokenizer, 'tiktoken.model'),
                    json.load(open(os.path.join(a.tokenizer, 'tokenizer_config.json'))))
    vocab = tok.num_base + 32
    config = make_config(vocab)
    r = P.mulberry32(a.seed * 1000 + (7 if thinking else 3))  # training pictures; tests use other seeds
    samples = [D.make_sample(r, tok, LIMIT, thinking, 0.5) for _ in range(64)]
    texts = [tok.decode(s[0]) for s in samples]
    print('tokenizer check:', check_tokenizer(tok, texts, a.tokenizer, REPO), 'texts agree with the engine', flush=True)

    model = KimiVL(config)
    if a.init:
        X.load_hf(model, a.init)
        print('initialised from', a.init, flush=True)
    head = A.AuxHead(config['vision_config']['hidden_size'])
    if a.vision_init:
        pre = torch.load(a.vision_init)
        model.vision_tower.load_state_dict(pre['tower'])
        head.load_state_dict(pre['head'])
        print('vision tower from', a.vision_init, flush=True)
    params = list(model.parameters())
    tower_ids = {id(p) for p in model.vision_tower.parameters()}
    groups = [{'params': [p for p in params if id(p) not in tower_ids], 'scale': 1.0},
              {'params': list(model.vision_tower.parameters()) + list(head.parameters()), 'scale': a.vision_lr}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    moe = [l.mlp for l in model.language_model.model.layers if hasattr(l.mlp, 'w_gate')]
    start, step, budget = time.time(), 0, a.minutes * 60
    pad_id = config['text_config']['pad_token_id']
    global _TOK
    _TOK = tok
    pool = mp.get_context('fork').Pool(1)  # the second core draws the pictures, AHEAD steps ahead
    base = a.seed * 10_000_000 + (5_000_000 if thinking else 0)

    def request(i):
        frac_now = (time.time() - start) / budget
        max_side = 84 + (448 - 84) * min(1.0, frac_now / a.curriculum) if a.curriculum > 0 else 448
        job = (base + i, thinking, max_side, a.pictures, a.texts, a.questions)
        return pool.apply_async(step_data, (job,))

    ahead = collections.deque(request(i) for i in range(AHEAD))
    while True:
        frac = (time.time() - start) / budget
        if frac >= 1:
            break
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g['lr'] = lr * g['scale']
        if time.time() - start < a.vision_warmup * 60:
            step += 1
            vision_step(model, head, opt, r, tok, 4 * a.pictures, step, start)
            continue
        groups, texts = ahead.popleft().get()
        ahead.append(request(step + AHEAD))
        ids, mask, patches, grids, aux_tgt, pic = D.collate_groups(groups, texts, pad_id)
        master = [p.data.clone() for p in params] if frac >= a.bf16_from else None
        if master:  # quantisation-aware: gradients at the bf16 weights the engine runs, applied to fp32
            for p in params:
                p.data = X.bf16_round(p.data)
        tower = model.vision_tower(patches, grids)
        feats = model.multi_modal_projector(tower, grids)
        logits = model(ids, feats=[feats[k] for k in pic if k >= 0])
        lm_loss = torch.nn.functional.cross_entropy(logits[:, :-1][mask[:, :-1]], ids[:, 1:][mask[:, :-1]])
        aux_loss = head.loss(torch.cat(tower), aux_tgt)
        loss = lm_loss + a.aux * aux_loss
        opt.zero_grad()
        loss.backward()
        if master:
            for p, m32 in zip(params, master):
                p.data = m32
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():  # auxiliary-loss-free balancing (DeepSeek-V3): nudge the selection bias
            for m in moe:
                m.bias += 1e-3 * torch.sign(m.last_load.mean() - m.last_load)
        step += 1
        if step % 50 == 0 or step < 50 and step % 5 == 0:
            print(f'step {step} {time.time() - start:.0f}s lr {lr:.2e} loss {lm_loss.item():.4f} aux {aux_loss.item():.4f}', flush=True)
        if step % a.eval_every == 0:
            model.eval()
            print(f'  eval exact {evaluate(model, tok, thinking, 555, 40):.3f}', flush=True)
            model.train()
    pool.terminate()
    model.eval()
    X.round_model(model)
    acc = evaluate(model, tok, thinking, 556, a.final_eval)
    print(f'done: {step} steps, final loss {lm_loss.item():.4f}, bf16 PyTorch exact {acc:.3f}', flush=True)
    readme = G.model_readme(a.variant, step, a.minutes, acc, a.init)
    X.write_model(model, a.out, a.tokenizer, LIMIT, readme)
    G.write_golden(model, tok, a.variant, a.out, a.golden, LIMIT)
    print('wrote', a.out, 'and golden cases under', a.golden, flush=True)


if __name__ == '__main__':
    main()
