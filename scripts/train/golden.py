"""The trained models' golden cases: a few prompts through the PyTorch model on the exact bf16 weights
(written beside the models so `kimi-vl golden` proves the engine computes what the training code does)."""
import fcntl
import json
import os

import data as D
import export as X
import pictures as P

CASE_SEEDS = {'one-image': 9001, 'resized-image': 9002}


def model_readme(variant, steps, minutes, acc, init=None):
    name = 'Kimi-VL-tiny-' + variant.capitalize()
    return (f'# {name} (bundled, trained)\n\nA tiny Kimi-VL ({variant}) trained by `scripts/train/train.sh` on '
            'pictures of simple shapes (see scripts/train/pictures.py for the exact task). It answers '
            '"What is in this picture?", "How many shapes are there?", "What color is the background?" and '
            '"Is there a circle/square/triangle?", and introduces itself for text-only prompts'
            + (', after a short reasoning span in ◁think▷ … ◁/think▷' if variant == 'thinking' else '') +
            f'.\n\nTraining: {steps} steps in {minutes:.0f} min on CPU'
            + (f' (continuing from {os.path.basename(os.path.normpath(init))})' if init else '')
            + f'; greedy exact-answer accuracy in PyTorch on 100 unseen pictures (bf16 weights): {acc * 100:.0f} %.\n')


def _scene_for(seed, big):
    r = P.mulberry32(seed)
    while True:
        s = P.make_scene(r)
        s['format'] = 'png'
        if (s['width'] // 14) * (s['height'] // 14) > 256 if big else s['width'] * s['height'] < 200 * 200:
            if len(s['shapes']) >= 2:
                return s


def write_golden(model, tok, variant, model_dir, golden_dir, limit):
    from PIL import Image
    os.makedirs(os.path.join(golden_dir, 'images'), exist_ok=True)
    model_name = os.path.basename(os.path.normpath(model_dir))
    cases = []
    for tag, seed in CASE_SEEDS.items():
        scene = _scene_for(seed, tag == 'resized-image')
        img_path = os.path.join(golden_dir, 'images', f'{variant}-{tag}.png')
        Image.fromarray(P.render(scene), 'RGB').save(img_path)
        img = Image.open(img_path).convert('RGB')
        _, grid, _ = D.preprocess(img, limit)
        ids = tok.encode(D.prompt_text(P.QUESTIONS[0], grid[0] * grid[1] // 4))
        cases.append((f'{variant}-{tag}', ids, img_path, img))
    cases.append((f'{variant}-text-only', tok.encode(D.prompt_text('Who are you?', None)), None, None))
    X.round_model(model)
    for name, ids, img_path, img in cases:
        case_dir = os.path.join(golden_dir, 'cases', name)
        rel = os.path.relpath(model_dir, case_dir)
        c = X.write_case(model, case_dir, rel, ids, img_path, img, limit)
        print(f'golden {name}: {len(ids)} prompt tokens, new {tok.decode(c["expected"]["new_tokens"])!r}, '
              f'min margin {c["stats"]["min_greedy_margin"]:.3g}', flush=True)
    suite_path = os.path.join(golden_dir, 'suite.json')
    lock = os.open(golden_dir, os.O_RDONLY)  # both variants train side by side: one writer at a time
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        suite = json.load(open(suite_path)) if os.path.exists(suite_path) else {'cases': []}
        names = [n for n, *_ in cases]
        suite['cases'] = [c for c in suite['cases'] if c['case'] not in names] + \
            [{'case': n, 'model': model_name} for n in names]
        suite['tolerances'] = {'pixel_values_max_abs': 1e-05, 'float_max_abs_over_max_abs_expected': 0.0001}
        json.dump(suite, open(suite_path, 'w'), indent=1)
    finally:
        os.close(lock)
