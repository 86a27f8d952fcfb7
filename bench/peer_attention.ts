// MoonViT patch attention side by side with ORT: one 32×32 image, four 16×16 images and one 64×64 image
// (4,096 patches), 16 heads × 72. Ours is the flash kernel (forced through rt.tuning); the peer runs both
// its fused MultiHeadAttention op (com.microsoft) and a MatMul·Softmax·MatMul graph, and the faster is
// the row's peer. Equal-sized images are a batch for ORT, which is exactly our block-diagonal varlen.
import { type BenchContext, REAL } from './kernel_bench.ts';
import { bytesOf, compare } from './peer_compare.ts';
import { attentionHeadGroups, attentionModel, multiHeadAttentionModel } from './peer_graphs.ts';
import { syntheticActivations } from './synthetic.ts';
import type { PeerRow } from './types.ts';
import { flashAttention } from './variants.ts';

/** Packed qkv [B·L, 3·H·d] → one of q/k/v as [B·H, L, d] (heads first). */
export function headsFirstPart(
  qkv: Float32Array,
  B: number,
  L: number,
  H: number,
  d: number,
  which: 0 | 1 | 2,
): Float32Array {
  const Dv = H * d;
  const out = new Float32Array(B * H * L * d);
  for (let b = 0; b < B; b++)
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const src = (b * L + l) * 3 * Dv + which * Dv + h * d;
        out.set(qkv.subarray(src, src + d), ((b * H + h) * L + l) * d);
      }
  return out;
}

/** Packed qkv [B·L, 3·H·d] → one of q/k/v as [B, L, H·d] (token-major, as MultiHeadAttention takes it). */
export function tokenMajorPart(qkv: Float32Array, rows: number, Dv: number, which: 0 | 1 | 2): Float32Array {
  const out = new Float32Array(rows * Dv);
  for (let r = 0; r < rows; r++)
    out.set(qkv.subarray(r * 3 * Dv + which * Dv, r * 3 * Dv + (which + 1) * Dv), r * Dv);
  return out;
}

/** Ours [B·L, H·d] → [B·H, L, d]. */
export function oursHeadsFirst(o: Float32Array, B: number, L: number, H: number, d: number): Float32Array {
  const out = new Float32Array(o.length);
  for (let b = 0; b < B; b++)
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const src = ((b * L + l) * H + h) * d;
        out.set(o.subarray(src, src + d), ((b * H + h) * L + l) * d);
      }
  return out;
}

export async function peerPatchAttention(c: BenchContext, images: number, side: number): Promise<PeerRow> {
  const { visionHidden: Dv, visionHeads: H } = REAL;
  const d = Dv / H;
  const L = side * side;
  const rows = images * L;
  const row: PeerRow = {
    op: 'patch attention',
    shape: `${images}×${side}×${side} patches, ${H}×${d}`,
    quant: 'f32',
    peerOp: 'MultiHeadAttention or MatMul·Softmax·MatMul',
    target: 0.5,
  };
  const qkv = syntheticActivations(rows * 3 * Dv, 51 + side);
  const t = c.k.upload(qkv, [rows, 3 * Dv]);
  const grids = Array.from({ length: images }, () => ({ h: side, w: side }));
  const names = ['q', 'k', 'v'] as const;
  // one [B·H, L, L] score tensor passes the binding limit at 4,096 patches: the graph runs head groups
  const groups = attentionHeadGroups(images * H, L);
  try {
    // The two peer forms take different layouts: MHA token-major [B, L, H·d], the graph heads-first.
    const part = (layout: 'token' | 'heads') => () =>
      names.map((name, i) => ({
        name,
        dtype: 'float32' as const,
        dims: layout === 'token' ? [images, L, Dv] : [images * H, L, d],
        bytes: bytesOf(
          layout === 'token'
            ? tokenMajorPart(qkv, rows, Dv, i as 0 | 1 | 2)
            : headsFirstPart(qkv, images, L, H, d, i as 0 | 1 | 2),
        ),
      }));
    const r = await compare(c, {
      row,
      variant: flashAttention,
      ours: () => c.k.varlenAttention(t, grids, H, d),
      options: [
        {
          label: 'MultiHeadAttention (com.microsoft)',
          model: () => multiHeadAttentionModel(images, H, L, d),
          inputs: part('token'),
        },
        {
          label:
            groups === 1
              ? 'MatMul·Softmax·MatMul graph'
              : `MatMul·Softmax·MatMul graph, ${groups} head groups in one run (each L×L score tensor ≤ 128 MiB)`,
          model: () => attentionModel(images * H, L, d, groups),
          inputs: part('heads'),
          oursLayout: (o) => oursHeadsFirst(o, images, L, H, d),
        },
      ],
    });
    r.note = 'the graph materialises the L×L scores per head; ours streams them (online softmax)';
    return r;
  } finally {
    c.k.release(t);
  }
}

export async function runAttentionPeers(c: BenchContext, add: (r: PeerRow) => void): Promise<void> {
  if (c.cfg.smoke) {
    add(await peerPatchAttention(c, 1, 8));
    return;
  }
  add(await peerPatchAttention(c, 1, 32));
  add(await peerPatchAttention(c, 4, 16));
  if (!c.cfg.quick) add(await peerPatchAttention(c, 1, 64));
}
