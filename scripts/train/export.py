"""Writes a trained model in the Hugging Face layout the engine loads (config.json,
preprocessor_config.json, model.safetensors with the real checkpoint's tensor names, BF16 parameters,
F32 e_score_correction_bias, the stale rotary inv_freq tensors real checkpoints carry) and the
golden-format cases (../shared/golden/README.md) computed by the PyTorch model on those exact weights."""
import json
import os
import struct

import numpy as np
import torch


def bf16_round(t):
    """float32 → the nearest bf16 value (round to nearest even), still float32."""
    i = t.float().contiguous().view(torch.int32)
    r = ((i + 0x7FFF + ((i >> 16) & 1)) >> 16) << 16
    return r.view(torch.float32)


def hf_tensors(model):
    """The state dict under the real checkpoint's names (routed experts split, bias renamed)."""
    out = {}
    for k, v in model.state_dict().items():
        if '.mlp.w_' in k or k.endswith('.mlp.bias'):
            continue
        out[k] = v
    for li, layer in enumerate(model.language_model.model.layers):
        pre = f'language_model.model.layers.{li}'
        m = layer.mlp
        if hasattr(m, 'w_gate'):
            for e in range(m.w_gate.shape[0]):
                out[f'{pre}.mlp.experts.{e}.gate_proj.weight'] = m.w_gate[e]
                out[f'{pre}.mlp.experts.{e}.up_proj.weight'] = m.w_up[e]
                out[f'{pre}.mlp.experts.{e}.down_proj.weight'] = m.w_down[e]
            out[f'{pre}.mlp.gate.e_score_correction_bias'] = m.bias
        rope = model.config['text_config']['qk_rope_head_dim']
        # Stale on purpose, as in real checkpoints: the engine must compute the frequencies from config.json.
        out[f'{pre}.self_attn.rotary_emb.inv_freq'] = torch.ones(rope // 2)
    return {k: v.detach().float() for k, v in out.items()}


def round_model(model):
    """Rounds every parameter (and the router bias) to bf16 in place: the weights the engine will see."""
    with torch.no_grad():
        for p in list(model.parameters()) + [l.mlp.bias for l in model.language_model.model.layers if hasattr(l.mlp, 'bias')]:
            p.copy_(bf16_round(p))


def write_safetensors(path, tensors):
    header, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        f32 = name.endswith('e_score_correction_bias') or name.endswith('inv_freq')
        data = (t.numpy().astype('<f4') if f32 else (bf16_round(t).view(torch.int32) >> 16).to(torch.int16).numpy().astype('<i2')).tobytes()
        header[name] = {'dtype': 'F32' if f32 else 'BF16', 'shape': list(t.shape), 'data_offsets': [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def preprocessor_config(limit):
    return {
        'auto_map': {'AutoImageProcessor': 'image_processing_kimi_vl.KimiVLImageProcessor',
                     'AutoProcessor': 'processing_kimi_vl.KimiVLProcessor'},
        'image_mean': [0.5, 0.5, 0.5], 'image_processor_type': 'KimiVLImageProcessor',
        'image_std': [0.5, 0.5, 0.5], 'in_token_limit': limit, 'merge_kernel_size': [2, 2],
        'num_pooled_tokens': limit // 4, 'pad_input': True, 'patch_size': 14, 'processor_class': 'KimiVLProcessor',
    }


def write_model(model, out_dir, tok_dir, limit, readme):
    os.makedirs(out_dir, exist_ok=True)
    json.dump(model.config, open(os.path.join(out_dir, 'config.json'), 'w'), indent=2)
    json.dump(preprocessor_config(limit), open(os.path.join(out_dir, 'preprocessor_config.json'), 'w'), indent=2)
    for name in ('tiktoken.model', 'tokenizer_config.json'):
        with open(os.path.join(tok_dir, name), 'rb') as src, open(os.path.join(out_dir, name), 'wb') as dst:
            dst.write(src.read())
    write_safetensors(os.path.join(out_dir, 'model.safetensors'), hf_tensors(model))
    open(os.path.join(out_dir, 'README.md'), 'w').write(readme)


def _bin(path, t):
    t.detach().float().contiguous().numpy().astype('<f4').tofile(path)
    return {'file': os.path.basename(path), 'dtype': 'float32', 'shape': list(t.shape)}


@torch.no_grad()
def write_case(model, case_dir, model_rel, ids, image_path, image, limit, n_new=8):
    """One golden case: prompt logits, 8 greedy steps (no stop at EOS) and the vision tensors."""
    from data import preprocess
    os.makedirs(case_dir, exist_ok=True)
    pad = model.config['media_placeholder_token_id']
    case = {'model': model_rel, 'images': [], 'input_ids': ids, 'image_grid_hws': [],
            'media_placeholder_token_id': pad, 'n_prompt_tokens': len(ids), 'images_info': [], 'expected': {}}
    feats = None
    if image is not None:
        patches, grid, info = preprocess(image, limit)
        assert ids.count(pad) == info['placeholder_tokens']
        case['images'] = [os.path.relpath(image_path, case_dir)]
        case['image_grid_hws'] = [list(grid)]
        case['images_info'] = [info]
        vt = model.vision_tower([patches], [grid])
        feats = model.multi_modal_projector(vt, [grid])
        case['expected']['pixel_values'] = _bin(os.path.join(case_dir, 'pixel_values.bin'), patches)
        case['expected']['vision_tower_out'] = _bin(os.path.join(case_dir, 'vision_tower_out.bin'), vt[0])
        case['expected']['image_features'] = _bin(os.path.join(case_dir, 'image_features.bin'), feats[0])
    seq = list(ids)
    logits = model(torch.tensor([seq]), feats=feats)[0]
    case['expected']['logits'] = _bin(os.path.join(case_dir, 'logits.bin'), logits)
    new, steps, margins = [], [], []
    last = logits[-1]
    for _ in range(n_new):
        top = last.topk(2).values
        margins.append(float(top[0] - top[1]))
        new.append(int(last.argmax()))
        seq.append(new[-1])
        # Full recompute = the cached decode step (causal attention, positions T+i).
        last = model(torch.tensor([seq]), feats=feats)[0, -1]
        steps.append(last)
    case['expected']['new_tokens'] = new
    case['expected']['step_logits'] = _bin(os.path.join(case_dir, 'step_logits.bin'), torch.stack(steps))
    case['tolerance'] = {'pixel_values_max_abs': 1e-5, 'float_max_abs_over_max_abs_expected': 1e-4}
    case['stats'] = {'logits_min': float(logits.min()), 'logits_max': float(logits.max()),
                     'min_greedy_margin': min(margins)}
    json.dump(case, open(os.path.join(case_dir, 'case.json'), 'w'), indent=1)
    return case


def read_safetensors(path):
    """{name: float32 tensor} from a safetensors file (BF16 widened)."""
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        lo, hi = h['data_offsets']
        raw = b[8 + n + lo: 8 + n + hi]
        if h['dtype'] == 'BF16':
            t = torch.from_numpy((np.frombuffer(raw, '<u2').astype(np.int32) << 16).view(np.float32).copy())
        else:
            t = torch.from_numpy(np.frombuffer(raw, '<f4').copy())
        out[name] = t.view(h['shape'])
    return out


def load_hf(model, model_dir):
    """Loads a checkpoint written by write_model back into the training model (experts re-stacked)."""
    w = read_safetensors(os.path.join(model_dir, 'model.safetensors'))
    state = {k: v for k, v in w.items() if '.experts.' not in k and not k.endswith('inv_freq')
             and not k.endswith('e_score_correction_bias')}
    for li, layer in enumerate(model.language_model.model.layers):
        pre = f'language_model.model.layers.{li}.mlp'
        if hasattr(layer.mlp, 'w_gate'):
            n = layer.mlp.w_gate.shape[0]
            for ours, theirs in (('w_gate', 'gate_proj'), ('w_up', 'up_proj'), ('w_down', 'down_proj')):
                state[f'{pre}.{ours}'] = torch.stack([w[f'{pre}.experts.{e}.{theirs}.weight'] for e in range(n)])
            state[f'{pre}.bias'] = w[f'{pre}.gate.e_score_correction_bias']
    model.load_state_dict(state, strict=True)
