// LanguageOps + SamplingOps on the reference backend: the shared shape rules (language_shapes.ts), then
// the *.ref.ts loops.

import type { Tensor } from '../../tensor/types.ts';
import { rmsNormRef } from '../core/norm.ref.ts';
import { asRef, RefTensor } from '../ref_tensor.ts';
import { checkShape } from '../shape_check.ts';
import type { LanguageOps, RmsNormWeight, SamplingOps } from '../types.ts';
import { kvCacheWriteRef } from './kv_cache_write.ref.ts';
import {
  kvCacheWriteShape,
  mlaAttentionShape,
  moeExpertsShape,
  moeRouteShape,
  qRopeOptions,
  ropeShape,
  sampleShape,
} from './language_shapes.ts';
import { mlaAttentionRef } from './mla_attention.ref.ts';
import { latentRowWriteRef, roundToF16 } from './mla_decode_kv_write.ref.ts';
import { latentRowWriteShape } from './mla_decode_kv_write.shape.ts';
import { moeExpertsRef } from './moe_experts.ref.ts';
import { moeRouteRef } from './moe_route.ref.ts';
import { ropeRef } from './rope.ref.ts';
import { sampleRef } from './sample.ref.ts';

const f32 = (shape: readonly number[], data: Float32Array) => new RefTensor([...shape], 'f32', data);

/** The rows of x [T, D], or rmsNorm(x) with a norm (the fused prologue's math). */
export function normedRows(x: Tensor, T: number, D: number, norm?: RmsNormWeight): Float32Array {
  return norm ? rmsNormRef(asRef(x).f32, asRef(norm.weight).f32, T, D, norm.eps) : asRef(x).f32;
}

export function createRefLanguageOps(): LanguageOps & SamplingOps {
  return {
    rope(x, o) {
      const { T, C } = ropeShape(x, o);
      return f32(x.shape, ropeRef(asRef(x).f32, T, C, o));
    },
    kvCacheWrite(cache, cNorm, kPe, pos0) {
      const { T, R, P } = kvCacheWriteShape(cache, cNorm, kPe, pos0);
      // an f16 cache holds half-precision values, as the GPU's does
      const r = cache.dtype === 'f16' ? roundToF16 : (x: Float32Array) => x;
      kvCacheWriteRef(asRef(cache).f32, r(asRef(cNorm).f32), r(asRef(kPe).f32), T, R, P, pos0);
    },
    latentCache(shape, dtype) {
      return new RefTensor([...shape], dtype, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    },
    latentRowWrite(cache, kva, norm, eps, o) {
      const { T, R, P } = latentRowWriteShape(cache, kva, norm, o);
      const f16 = cache.dtype === 'f16';
      latentRowWriteRef(asRef(cache).f32, asRef(kva).f32, asRef(norm).f32, T, R, P, eps, o, f16);
    },
    mlaAttention(q, kvB, cache, pos0, d, qRope) {
      const { T } = mlaAttentionShape(q, kvB, cache, pos0, d);
      const qv = asRef(q).f32;
      const roped = qRope ? ropeRef(qv, T, q.shape[1]!, qRopeOptions(d, pos0, qRope)) : qv;
      const y = mlaAttentionRef(roped, asRef(kvB).f32, asRef(cache).f32, T, pos0, d);
      return f32([T, d.heads * d.v], y);
    },
    moeRoute(x, gate, bias, cfg, norm) {
      const { T, D } = moeRouteShape(x, gate, bias, cfg);
      const r = moeRouteRef(normedRows(x, T, D, norm), asRef(gate).f32, asRef(bias).f32, T, D, cfg);
      return {
        ids: new RefTensor([T, cfg.topK], 'u32', r.ids),
        weights: f32([T, cfg.topK], r.weights),
      };
    },
    moeExperts(x, ids, weights, gate, up, down, addend, norm) {
      const { T, D, A, E, I } = moeExpertsShape(x, ids, weights, gate, up, down, addend);
      const idv = asRef(ids).u32;
      checkShape(
        idv.every((e) => e < E),
        'moeExperts',
        'expert id out of range',
      );
      const [g, u, dn] = [gate, up, down].map((t) => asRef(t).f32) as [
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const add = addend && asRef(addend).f32;
      return f32(
        [T, D],
        moeExpertsRef(
          normedRows(x, T, D, norm),
          idv,
          asRef(weights).f32,
          g,
          u,
          dn,
          T,
          A,
          D,
          I,
          undefined,
          add,
        ),
      );
    },
    sample(logits, history, params, step) {
      sampleShape(logits, history);
      const id = sampleRef(asRef(logits).f32, history ? asRef(history).u32 : null, params, step);
      return new RefTensor([1], 'u32', Uint32Array.of(id));
    },
  };
}
