// LanguageOps + SamplingOps on the reference backend: shape checks, then the *.ref.ts loops.

import type { Tensor } from '../../tensor/types.ts';
import { checkShape } from '../core/ref_core_ops.ts';
import { asRef, numel, RefTensor, rowsCols } from '../ref_tensor.ts';
import type { LanguageOps, SamplingOps } from '../types.ts';
import { kvCacheWriteRef } from './kv_cache_write.ref.ts';
import { mlaAttentionRef } from './mla_attention.ref.ts';
import { moeExpertsRef } from './moe_experts.ref.ts';
import { moeRouteRef } from './moe_route.ref.ts';
import { type RopeOptionsExt, ropeRef } from './rope.ref.ts';
import { sampleRef } from './sample.ref.ts';

/** LanguageOps whose rope also takes optional YaRN parameters (see rope.ref.ts). */
export type LanguageOpsExt = LanguageOps & {
  rope(x: Tensor, o: RopeOptionsExt): Tensor;
};

const f32 = (shape: readonly number[], data: Float32Array) => new RefTensor([...shape], 'f32', data);

export function createRefLanguageOps(): LanguageOpsExt & SamplingOps {
  return {
    rope(x, o) {
      const [rows, cols] = rowsCols(x);
      checkShape(o.ropeDim % 2 === 0, 'rope', `ropeDim ${o.ropeDim} must be even`);
      checkShape(
        (o.heads - 1) * o.headStride + o.offset + o.ropeDim <= cols,
        'rope',
        `${o.heads} heads × stride ${o.headStride} + offset ${o.offset} + ${o.ropeDim} exceeds width ${cols}`,
      );
      return f32(x.shape, ropeRef(asRef(x).f32, rows, cols, o));
    },
    kvCacheWrite(cache, cNorm, kPe, pos0) {
      const [ctx, w] = rowsCols(cache);
      const [rows, rank] = rowsCols(cNorm);
      const [rows2, rope] = rowsCols(kPe);
      checkShape(
        rows === rows2 && rank + rope === w,
        'kvCacheWrite',
        `c [${cNorm.shape}] + k_pe [${kPe.shape}] vs cache [${cache.shape}]`,
      );
      checkShape(
        pos0 >= 0 && pos0 + rows <= ctx,
        'kvCacheWrite',
        `rows ${pos0}..${pos0 + rows} outside cache of ${ctx}`,
      );
      kvCacheWriteRef(asRef(cache).f32, asRef(cNorm).f32, asRef(kPe).f32, rows, rank, rope, pos0);
    },
    mlaAttention(q, kvB, cache, pos0, d) {
      const [rows, qw] = rowsCols(q);
      const [ctx, cw] = rowsCols(cache);
      checkShape(
        qw === d.heads * (d.qkNope + d.qkRope),
        'mlaAttention',
        `q [${q.shape}] for ${d.heads} heads`,
      );
      checkShape(cw === d.kvRank + d.qkRope, 'mlaAttention', `cache [${cache.shape}] width`);
      checkShape(
        kvB.shape.join() === [d.heads * (d.qkNope + d.v), d.kvRank].join(),
        'mlaAttention',
        `kv_b [${kvB.shape}] vs [${d.heads * (d.qkNope + d.v)}, ${d.kvRank}]`,
      );
      checkShape(pos0 + rows <= ctx, 'mlaAttention', `positions up to ${pos0 + rows} exceed cache ${ctx}`);
      const y = mlaAttentionRef(asRef(q).f32, asRef(kvB).f32, asRef(cache).f32, rows, pos0, d);
      return f32([rows, d.heads * d.v], y);
    },
    moeRoute(x, gate, bias, cfg) {
      const [rows, d] = rowsCols(x);
      const E = numel(bias.shape);
      checkShape(gate.shape.join() === [E, d].join(), 'moeRoute', `gate [${gate.shape}] vs [${E}, ${d}]`);
      checkShape(
        E % cfg.nGroup === 0 && cfg.topK <= E,
        'moeRoute',
        `${E} experts, ${cfg.nGroup} groups, top ${cfg.topK}`,
      );
      const r = moeRouteRef(asRef(x).f32, asRef(gate).f32, asRef(bias).f32, rows, d, cfg);
      return {
        ids: new RefTensor([rows, cfg.topK], 'u32', r.ids),
        weights: f32([rows, cfg.topK], r.weights),
      };
    },
    moeExperts(x, ids, weights, gate, up, down) {
      const [rows, d] = rowsCols(x);
      const [rows2, topK] = rowsCols(ids);
      const [E, inter] = gate.shape as [number, number, number];
      checkShape(
        rows2 === rows && weights.shape.join() === ids.shape.join(),
        'moeExperts',
        'ids/weights shape',
      );
      checkShape(
        gate.shape.join() === [E, inter, d].join() && up.shape.join() === gate.shape.join(),
        'moeExperts',
        'gate/up shape',
      );
      checkShape(down.shape.join() === [E, d, inter].join(), 'moeExperts', `down [${down.shape}]`);
      const idv = asRef(ids).u32;
      checkShape(
        idv.every((e) => e < E),
        'moeExperts',
        'expert id out of range',
      );
      const y = moeExpertsRef(
        asRef(x).f32,
        idv,
        asRef(weights).f32,
        asRef(gate).f32,
        asRef(up).f32,
        asRef(down).f32,
        rows,
        topK,
        d,
        inter,
      );
      return f32([rows, d], y);
    },
    sample(logits, history, params, step) {
      const [rows] = rowsCols(logits);
      checkShape(rows === 1, 'sample', `logits [${logits.shape}] must be one row`);
      const id = sampleRef(asRef(logits).f32, history ? asRef(history).u32 : null, params, step);
      return new RefTensor([1], 'u32', Uint32Array.of(id));
    },
  };
}
