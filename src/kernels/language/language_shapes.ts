// The shape rule of each language op, called by both backends (ref_language_ops.ts and the GPU wrappers)
// so they refuse the same inputs with the same message. Each returns the sizes the op needs. What only one
// backend can check stays with it: stored dtypes and workgroup limits on the GPU, id values in the reference.
import type { Tensor } from '../../tensor/types.ts';
import { checkShape, numel, rowsCols, sameShape } from '../shape_check.ts';
import type { MlaDims, QRope, RopeOptions, RouterConfig } from '../types.ts';

/** x [T, C]: `heads` heads of stride headStride, each rotating ropeDim values from `offset`. */
export function ropeShape(x: Tensor, o: RopeOptions): { T: number; C: number } {
  const [T, C] = rowsCols(x);
  checkShape(o.ropeDim % 2 === 0, 'rope', `ropeDim ${o.ropeDim} must be even`);
  checkShape(
    (o.heads - 1) * o.headStride + o.offset + o.ropeDim <= C && o.offset + o.ropeDim <= o.headStride,
    'rope',
    `${o.heads} heads × stride ${o.headStride} + offset ${o.offset} + ${o.ropeDim} vs width ${C}`,
  );
  return { T, C };
}

/** cache [ctx, R+P] ← c_norm [T, R] | k_pe [T, P] at rows pos0..pos0+T−1. */
export function kvCacheWriteShape(
  cache: Tensor,
  cNorm: Tensor,
  kPe: Tensor,
  pos0: number,
): { T: number; R: number; P: number; ctx: number } {
  const [ctx, W] = rowsCols(cache);
  const [T, R] = rowsCols(cNorm);
  const [T2, P] = rowsCols(kPe);
  checkShape(
    T === T2 && R + P === W,
    'kvCacheWrite',
    `c [${cNorm.shape}] + k_pe [${kPe.shape}] vs cache [${cache.shape}]`,
  );
  checkShape(
    pos0 >= 0 && pos0 + T <= ctx,
    'kvCacheWrite',
    `rows ${pos0}..${pos0 + T} outside cache of ${ctx}`,
  );
  return { T, R, P, ctx };
}

/** q [T, H·(nope+rope)], kv_b [H·(nope+v), R], cache [ctx, R+rope] with pos0 + T ≤ ctx. */
export function mlaAttentionShape(
  q: Tensor,
  kvB: Tensor,
  cache: Tensor,
  pos0: number,
  d: MlaDims,
): { T: number; ctx: number } {
  const [T, qw] = rowsCols(q);
  const [ctx, cw] = rowsCols(cache);
  checkShape(qw === d.heads * (d.qkNope + d.qkRope), 'mlaAttention', `q [${q.shape}] for ${d.heads} heads`);
  checkShape(
    cw === d.kvRank + d.qkRope,
    'mlaAttention',
    `cache [${cache.shape}] width vs R+P = ${d.kvRank + d.qkRope}`,
  );
  const kvRows = d.heads * (d.qkNope + d.v);
  checkShape(
    kvB.shape.join() === [kvRows, d.kvRank].join(),
    'mlaAttention',
    `kv_b [${kvB.shape}] vs [${kvRows}, ${d.kvRank}]`,
  );
  checkShape(pos0 + T <= ctx, 'mlaAttention', `positions up to ${pos0 + T} exceed cache ${ctx}`);
  return { T, ctx };
}

/** The rope mlaAttention applies to q's pe columns: every head, after the nope columns, from pos0. */
export function qRopeOptions(d: MlaDims, pos0: number, r: QRope): RopeOptions {
  const { heads, qkNope: N, qkRope: P } = d;
  checkShape(P % 2 === 0, 'mlaAttention', `q's rope needs an even rope dim, got ${P}`);
  return {
    heads,
    headStride: N + P,
    offset: N,
    ropeDim: P,
    theta: r.theta,
    pos0,
    ...(r.yarn ? { yarn: r.yarn } : {}),
  };
}

/** x [T, D], gate [E, D], bias [E]; E experts in nGroup equal groups. */
export function moeRouteShape(
  x: Tensor,
  gate: Tensor,
  bias: Tensor,
  cfg: RouterConfig,
): { T: number; D: number; E: number } {
  const [T, D] = rowsCols(x);
  const E = numel(bias.shape);
  checkShape(gate.shape.join() === [E, D].join(), 'moeRoute', `gate [${gate.shape}] vs [${E}, ${D}]`);
  checkShape(
    E % cfg.nGroup === 0 && cfg.topK <= E && cfg.topkGroup <= cfg.nGroup,
    'moeRoute',
    `top ${cfg.topK} of ${E} experts, ${cfg.topkGroup} of ${cfg.nGroup} groups`,
  );
  return { T, D, E };
}

/** x [T, D], ids u32 / weights [T, A], gate/up [E, I, D], down [E, D, I], addend (when given) [T, D]. */
export function moeExpertsShape(
  x: Tensor,
  ids: Tensor,
  weights: Tensor,
  gate: Tensor,
  up: Tensor,
  down: Tensor,
  addend?: Tensor,
): { T: number; D: number; A: number; E: number; I: number } {
  const [T, D] = rowsCols(x);
  const [T2, A] = rowsCols(ids);
  const [E, I] = gate.shape as [number, number, number];
  checkShape(
    ids.dtype === 'u32' && T2 === T && sameShape(weights, ids),
    'moeExperts',
    `ids [${ids.shape}] / weights [${weights.shape}] for ${T} tokens`,
  );
  checkShape(
    gate.shape.join() === [E, I, D].join() && sameShape(up, gate),
    'moeExperts',
    `gate/up [${gate.shape}] vs [E, I, ${D}]`,
  );
  checkShape(
    sameShape(down, { shape: [E, D, I] }),
    'moeExperts',
    `down [${down.shape}] vs [${E}, ${D}, ${I}]`,
  );
  checkShape(
    !addend || (addend.dtype === 'f32' && sameShape(addend, x)),
    'moeExperts',
    `addend [${addend?.shape}] vs x [${x.shape}]`,
  );
  return { T, D, A, E, I };
}

/** logits [1, V] (one row); history, when given, u32 ids. */
export function sampleShape(logits: Tensor, history: Tensor | null): { V: number } {
  const [rows, V] = rowsCols(logits);
  checkShape(rows === 1, 'sample', `logits [${logits.shape}] must be one row`);
  checkShape(!history || history.dtype === 'u32', 'sample', 'history must be u32 ids');
  return { V };
}
