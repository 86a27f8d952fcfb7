"""Kimi-VL in PyTorch, transcribed from the official modeling code as ../shared/spec and the golden
README describe it (the same math as the engine): MoonViT (learned position table resized bicubically,
2D RoPE, attention per image, tanh-GELU MLP), 2x2 patch merge + projector (LayerNorm, erf GELU), and the
DeepSeek-V3 language model (MLA with interleaved RoPE, sigmoid top-k routed experts + shared expert).
Batched for training: one image per sample, vision tokens padded per batch, text right-padded.
Routed experts are stored stacked ([E, out, in]) and split into per-expert tensors on export.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope_pairs(x, cos, sin):
    """Rotates pairs (x[2i], x[2i+1]) by the angles whose cos/sin are given ([..., d/2])."""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], -1).flatten(-2)


class VisionBlock(nn.Module):
    def __init__(self, d, heads, inter):
        super().__init__()
        self.heads = heads
        self.norm0, self.norm1 = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)
        self.wqkv, self.wo = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Module()
        self.mlp.fc0, self.mlp.fc1 = nn.Linear(d, inter), nn.Linear(inter, d)

    def forward(self, x, cos, sin, key_mask):
        b, n, d = x.shape
        qkv = self.wqkv(self.norm0(x)).view(b, n, 3, self.heads, d // self.heads)
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))  # [B, H, N, hd]
        q, k = rope_pairs(q, cos, sin), rope_pairs(k, cos, sin)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        s = s.masked_fill(~key_mask[:, None, None, :], float('-inf'))
        o = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.wo(o)
        return x + self.mlp.fc1(F.gelu(self.mlp.fc0(self.norm1(x)), approximate='tanh'))


class VisionTower(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.heads = c['hidden_size'], c['num_attention_heads']
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, d, 14, 14)
        self.patch_embed.pos_emb = nn.Module()
        self.patch_embed.pos_emb.weight = nn.Parameter(
            torch.randn(c['init_pos_emb_height'], c['init_pos_emb_width'], d) * 0.02)
        self.encoder = nn.Module()
        self.encoder.blocks = nn.ModuleList(
            VisionBlock(d, self.heads, c['intermediate_size']) for _ in range(c['num_hidden_layers']))
        self.encoder.final_layernorm = nn.LayerNorm(d, eps=1e-5)

    def pos_and_rope(self, h, w):
        """The position table resized to (h, w) [h*w, D] and the 2D-RoPE cos/sin [h*w, hd/2]."""
        t = self.patch_embed.pos_emb.weight.permute(2, 0, 1)[None]
        pos = F.interpolate(t, size=(h, w), mode='bicubic', align_corners=False)[0].flatten(1).T
        hd = self.patch_embed.proj.out_channels // self.heads
        freq = 1.0 / (10000 ** (torch.arange(0, hd, 4)[: hd // 4].float() / hd))
        r, col = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing='ij')
        ang = torch.stack([col.flatten()[:, None] * freq, r.flatten()[:, None] * freq], -1).flatten(1)
        return pos, ang.cos(), ang.sin()

    def grid_tables(self, h, w):
        """Cached per grid: the bicubic resize as a matrix [h*w, H0*W0] (it is linear in the table) and
        the RoPE cos/sin, so a training batch needs one matmul instead of one interpolation per image."""
        cache = self.__dict__.setdefault('_grid_cache', {})
        if (h, w) not in cache:
            h0, w0, _ = self.patch_embed.pos_emb.weight.shape
            eye = torch.eye(h0 * w0).view(h0 * w0, 1, h0, w0)
            m = F.interpolate(eye, size=(h, w), mode='bicubic', align_corners=False).view(h0 * w0, h * w).T
            _, c, s = self.pos_and_rope(h, w)
            cache[(h, w)] = (m.contiguous(), c, s)
        return cache[(h, w)]

    def forward(self, patches, grids):
        """patches: list of [h*w, 3, 14, 14]; returns a list of [h*w, D] (after final_layernorm)."""
        n_max = max(p.shape[0] for p in patches)
        b, d = len(patches), self.patch_embed.proj.out_channels
        hd = d // self.heads
        px = torch.zeros(b, n_max, 3 * 14 * 14)
        interp = torch.zeros(b, n_max, self.patch_embed.pos_emb.weight[..., 0].numel())
        cos, sin = torch.ones(b, n_max, hd // 2), torch.zeros(b, n_max, hd // 2)
        mask = torch.zeros(b, n_max, dtype=torch.bool)
        for i, (p, (h, w)) in enumerate(zip(patches, grids)):
            m, c, s = self.grid_tables(h, w)
            n = h * w
            px[i, :n], interp[i, :n], cos[i, :n], sin[i, :n], mask[i, :n] = p.view(n, -1), m, c, s, True
        table = self.patch_embed.pos_emb.weight.reshape(-1, d)
        x = px @ self.patch_embed.proj.weight.view(d, -1).T + self.patch_embed.proj.bias + interp @ table
        cos, sin = cos[:, None], sin[:, None]
        for blk in self.encoder.blocks:
            x = blk(x, cos, sin, mask)
        x = self.encoder.final_layernorm(x)
        return [x[i, : h * w] for i, (h, w) in enumerate(grids)]


class Projector(nn.Module):
    def __init__(self, dv, dt):
        super().__init__()
        self.pre_norm = nn.LayerNorm(dv, eps=1e-5)
        self.linear_1, self.linear_2 = nn.Linear(4 * dv, 4 * dv), nn.Linear(4 * dv, dt)

    def forward(self, feats, grids):
        out = []
        for f, (h, w) in zip(feats, grids):
            m = f.view(h // 2, 2, w // 2, 2, -1).permute(0, 2, 1, 3, 4).reshape((h // 2) * (w // 2), 4, -1)
            out.append(self.linear_2(F.gelu(self.linear_1(self.pre_norm(m).flatten(1)))))
        return out


class SwiGLU(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.gate_proj, self.up_proj = nn.Linear(d, inter, bias=False), nn.Linear(d, inter, bias=False)
        self.down_proj = nn.Linear(inter, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, e, i = c['hidden_size'], c['n_routed_experts'], c['moe_intermediate_size']
        self.c = c
        self.gate = nn.Module()
        self.gate.weight = nn.Parameter(torch.randn(e, d) * 0.02)
        self.register_buffer('bias', torch.zeros(e))  # e_score_correction_bias: selection only
        self.w_gate = nn.Parameter(torch.randn(e, i, d) / math.sqrt(d))
        self.w_up = nn.Parameter(torch.randn(e, i, d) / math.sqrt(d))
        self.w_down = nn.Parameter(torch.randn(e, d, i) / math.sqrt(i) * 0.5)
        self.shared_experts = SwiGLU(d, i * c['n_shared_experts'])
        self.last_load = None

    def route(self, x):
        """Dense [N, E] routing weights: the official noaux_tc selection with the unbiased scores."""
        c = self.c
        s = torch.sigmoid(x @ self.gate.weight.T)
        choice = (s + self.bias).detach()
        e, g = choice.shape[-1], c['n_group']
        grp = choice.view(-1, g, e // g).topk(min(2, e // g), -1).values.sum(-1)
        keep = torch.zeros_like(grp).scatter_(1, grp.topk(c['topk_group'], -1).indices, 1.0)
        choice = choice.masked_fill(keep.repeat_interleave(e // g, 1) == 0, 0.0)
        idx = choice.topk(c['num_experts_per_tok'], -1).indices
        w = s.gather(1, idx)
        if c['norm_topk_prob']:
            w = w / (w.sum(-1, keepdim=True) + 1e-20)
        dense = torch.zeros_like(s).scatter(1, idx, w * c['routed_scaling_factor'])
        self.last_load = torch.zeros(e).scatter_add_(0, idx.flatten(), torch.ones(idx.numel()))
        return dense

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        wts = self.route(x)
        e, i, d = self.w_gate.shape
        # Every expert on every token (8 small experts: cheaper on CPU than dispatch), weighted densely.
        h = F.silu(x @ self.w_gate.reshape(e * i, d).T) * (x @ self.w_up.reshape(e * i, d).T)
        h = (h.view(-1, e, i) * wts[:, :, None]).reshape(-1, e * i)
        y = h @ self.w_down.permute(0, 2, 1).reshape(e * i, d)
        return (y + self.shared_experts(x)).view(shape)


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.h = c['hidden_size'], c['num_attention_heads']
        self.nope, self.rope, self.vd, self.rank = (c['qk_nope_head_dim'], c['qk_rope_head_dim'],
                                                    c['v_head_dim'], c['kv_lora_rank'])
        self.q_proj = nn.Linear(d, self.h * (self.nope + self.rope), bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(d, self.rank + self.rope, bias=False)
        self.kv_a_layernorm = nn.Module()
        self.kv_a_layernorm.weight = nn.Parameter(torch.ones(self.rank))
        self.kv_b_proj = nn.Linear(self.rank, self.h * (self.nope + self.vd), bias=False)
        self.o_proj = nn.Linear(self.h * self.vd, d, bias=False)
        self.theta = c['rope_theta']

    def forward(self, x, pos):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.h, self.nope + self.rope).transpose(1, 2)
        ckv = self.kv_a_proj_with_mqa(x)
        c, k_pe = ckv[..., : self.rank], ckv[..., self.rank:]
        kv = self.kv_b_proj(rms_norm(c, self.kv_a_layernorm.weight, 1e-6)).view(b, t, self.h, -1).transpose(1, 2)
        k_nope, v = kv[..., : self.nope], kv[..., self.nope:]
        inv = self.theta ** (-torch.arange(0, self.rope, 2).float() / self.rope)
        ang = pos.float()[:, None] * inv
        cos, sin = ang.cos(), ang.sin()
        q_pe = rope_pairs(q[..., self.nope:], cos, sin)
        k_pe = rope_pairs(k_pe[:, None], cos, sin)
        s = (q[..., : self.nope] @ k_nope.transpose(-1, -2) + q_pe @ k_pe.transpose(-1, -2))
        s = s * (self.nope + self.rope) ** -0.5
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        s = s.masked_fill(~causal, float('-inf'))
        o = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(o)


class Layer(nn.Module):
    def __init__(self, c, moe):
        super().__init__()
        d = c['hidden_size']
        self.eps = c['rms_norm_eps']
        self.input_layernorm, self.post_attention_layernorm = nn.Module(), nn.Module()
        self.input_layernorm.weight = nn.Parameter(torch.ones(d))
        self.post_attention_layernorm.weight = nn.Parameter(torch.ones(d))
        self.self_attn = MLA(c)
        self.mlp = MoE(c) if moe else SwiGLU(d, c['intermediate_size'])

    def forward(self, x, pos):
        x = x + self.self_attn(rms_norm(x, self.input_layernorm.weight, self.eps), pos)
        return x + self.mlp(rms_norm(x, self.post_attention_layernorm.weight, self.eps))


class KimiVL(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        v, t = config['vision_config'], config['text_config']
        self.vision_tower = VisionTower(v)
        self.multi_modal_projector = Projector(v['hidden_size'], t['hidden_size'])
        lm = nn.Module()
        lm.model = nn.Module()
        lm.model.embed_tokens = nn.Embedding(t['vocab_size'], t['hidden_size'])
        nn.init.normal_(lm.model.embed_tokens.weight, std=0.02)
        lm.model.layers = nn.ModuleList(Layer(t, i >= t['first_k_dense_replace']) for i in range(t['num_hidden_layers']))
        lm.model.norm = nn.Module()
        lm.model.norm.weight = nn.Parameter(torch.ones(t['hidden_size']))
        lm.lm_head = nn.Linear(t['hidden_size'], t['vocab_size'], bias=False)
        self.language_model = lm

    def image_features(self, patches, grids):
        return self.multi_modal_projector(self.vision_tower(patches, grids), grids)

    def forward(self, ids, patches=None, grids=None, feats=None):
        """ids [B, T] (placeholders already expanded); returns logits [B, T, V]."""
        lm, t = self.language_model, self.config['text_config']
        x = lm.model.embed_tokens(ids)
        if patches:
            feats = self.image_features(patches, grids)
        if feats:
            x = x.clone()
            x[ids == self.config['media_placeholder_token_id']] = torch.cat(feats)
        pos = torch.arange(ids.shape[1])
        for layer in lm.model.layers:
            x = layer(x, pos)
        return lm.lm_head(rms_norm(x, lm.model.norm.weight, t['rms_norm_eps']))
