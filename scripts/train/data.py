"""Training samples: a picture (or none), a question, the exact prompt ids the engine builds (chat
template of spec 5.1, placeholders expanded per spec 5.2) and the answer ids the loss is taken on.
Preprocessing is the official image_processing_kimi_vl.py (spec 4 / golden README) with Pillow."""
import io
import math

import numpy as np
import torch
from PIL import Image

import aux as A
import pictures as P

SYSTEM = '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|>'
USER = '<|im_user|>user<|im_middle|>'
IMAGE = '<|media_start|>image<|media_content|>{pads}<|media_end|>'
GEN = '<|im_end|><|im_assistant|>assistant<|im_middle|>'


def preprocess(im, limit):
    """PIL RGB image → (patches [h*w, 3, 14, 14] float32, grid (h, w), info)."""
    w, h = im.size
    info = {'size_wh': [w, h]}
    if (w // 14) * (h // 14) > limit:
        s = math.sqrt(limit / ((w // 14) * (h // 14)))
        im = im.resize((int(w * s), int(h * s)), Image.BICUBIC)
    info['resized_wh'] = list(im.size)
    w, h = im.size
    pw, ph = w + (28 - w % 28) % 28, h + (28 - h % 28) % 28
    a = np.zeros((ph, pw, 3), np.uint8)
    a[:h, :w] = np.asarray(im.convert('RGB'))
    info['padded_wh'] = [pw, ph]
    x = (torch.from_numpy(a).float().permute(2, 0, 1) / 255.0 - 0.5) / 0.5
    gh, gw = ph // 14, pw // 14
    patches = x.view(3, gh, 14, gw, 14).permute(1, 3, 0, 2, 4).reshape(gh * gw, 3, 14, 14)
    info['grid_hw'] = [gh, gw]
    info['placeholder_tokens'] = gh * gw // 4
    return patches.contiguous(), (gh, gw), info


def picture(scene):
    """The scene as the PIL image a user's file would decode to (JPEG scenes go through JPEG)."""
    px = P.render(scene)
    if scene['format'] == 'jpeg':
        return Image.open(io.BytesIO(P.encode(scene, px))).convert('RGB')
    return Image.fromarray(px, 'RGB')


def prompt_text(question, n_pads, image_first=True):
    """The rendered prompt (generation prompt on); n_pads None = text only."""
    if n_pads is None:
        return SYSTEM + USER + question + GEN
    img = IMAGE.format(pads='<|media_pad|>' * n_pads)
    return SYSTEM + USER + (img + question if image_first else question + img) + GEN


def make_sample(r, tok, limit, thinking, text_only_p=0.08):
    """ids [T], loss mask [T] (True where the next token is an answer token), patches, grid."""
    if r() < text_only_p:
        scene, question = None, P.pick(r, P.TEXT_PROMPTS)
        patches = grid = None
        prompt = prompt_text(question, None)
    else:
        scene = P.make_scene(r)
        question = P.pick_question(r)
        patches, grid, _ = preprocess(picture(scene), limit)
        prompt = prompt_text(question, grid[0] * grid[1] // 4, image_first=r() < 0.9)
    ids, target = _with_reply(tok, prompt, (P.thinking_answer if thinking else P.answer)(scene, question))
    return ids, target, patches, grid


def make_group(r, tok, limit, thinking, max_side=448, questions='all'):
    """One picture asked all four question forms (the tower runs once for the four sequences):
    (patches, grid, aux targets, [(ids, target), ...]). max_side: the curriculum's size cap (pictures over
    it are drawn again), so early training sees few, shape-dominated image tokens. questions='listing':
    only "What is in this picture?" and one other form drawn at random — the listing is the one form
    the model still gets wrong, so the same compute sees it on twice as many pictures. questions='presence':
    the listing, the count or the background, and "Is there a …?" for a shape present and one absent."""
    scene = P.make_scene(r)
    while max(scene['width'], scene['height']) > max_side:
        scene = P.make_scene(r)
    patches, grid, info = preprocess(picture(scene), limit)
    n_pads = grid[0] * grid[1] // 4
    seqs = []
    forms = P.QUESTIONS + [f'Is there a {P.pick(r, P.SHAPES)}?']
    if questions == 'listing':
        forms = [forms[0], forms[1 + int(r() * 3) % 3]]
    elif questions == 'presence':
        forms = [forms[0], forms[1 + int(r() * 2) % 2]] + _presence_pair(r, scene)
    for question in forms:
        prompt = prompt_text(question, n_pads, image_first=r() < 0.9)
        reply = (P.thinking_answer if thinking else P.answer)(scene, question)
        seqs.append(_with_reply(tok, prompt, reply))
    return patches, grid, A.targets(scene, info), seqs


def _presence_pair(r, scene):
    """"Is there a …?" for one shape in the scene and one not in it (when there is one): the yes and no
    answers on the same picture, so the model must look rather than guess from the shape name."""
    present = sorted({o['shape'] for o in scene['shapes']})
    absent = [s for s in P.SHAPES if s not in present]
    pair = [P.pick(r, present)] + ([P.pick(r, absent)] if absent else [P.pick(r, P.SHAPES)])
    return [f'Is there a {s}?' for s in pair]


def _with_reply(tok, prompt, reply):
    p_ids, a_ids = tok.encode(prompt), tok.encode(reply + '<|im_end|>')
    return p_ids + a_ids, [False] * (len(p_ids) - 1) + [True] * len(a_ids) + [False]


def text_sample(r, tok, thinking):
    question = P.pick(r, P.TEXT_PROMPTS)
    return _with_reply(tok, prompt_text(question, None), (P.thinking_answer if thinking else P.answer)(None, question))


def collate_groups(groups, texts, pad_id):
    """Sequences of every group (picture index per sequence, -1 for text) then the text samples."""
    seqs, pic = [], []
    for k, g in enumerate(groups):
        seqs += g[3]
        pic += [k] * len(g[3])
    seqs += texts
    pic += [-1] * len(texts)
    ids, mask, _, _ = collate([(i, m, None, None) for i, m in seqs], pad_id)
    return ids, mask, [g[0] for g in groups], [g[1] for g in groups], torch.cat([g[2] for g in groups]), pic


def collate(samples, pad_id):
    t = max(len(s[0]) for s in samples)
    ids = torch.full((len(samples), t), pad_id, dtype=torch.long)
    mask = torch.zeros(len(samples), t, dtype=torch.bool)
    for i, (s_ids, s_mask, _, _) in enumerate(samples):
        ids[i, : len(s_ids)] = torch.tensor(s_ids)
        mask[i, : len(s_mask)] = torch.tensor(s_mask)
    with_img = [s for s in samples if s[2] is not None]
    return ids, mask, [s[2] for s in with_img], [s[3] for s in with_img]
