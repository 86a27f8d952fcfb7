// The two MLA decode kernels bench/mla_bench.ts compares, as its MlaDecodeKernel entries:
//   mlaDecodeBaseline: the old per-(head, split) kernel (bench/baseline/mla_attention_old.ts), f32 cache,
//     every head streaming every row: H · ctx · (R+P) · 4 bytes of cache per token;
//   mlaDecodeEngine(dtype): the engine's mla_decode (all heads per split, src/kernels/language/mla_decode.ts)
//     over an f16 (default) or f32 cache; its bytes from the kernel's access pattern (mla_decode_plan.ts).
import { asGpu } from '../../src/gpu/tensor.ts';
import { mlaDecode } from '../../src/kernels/language/mla_decode.ts';
import {
  adapterWorkgroups,
  defaultHeadsPerLane,
  type HeadsPerLane,
  mlaDecodeBytes,
} from '../../src/kernels/language/mla_decode_plan.ts';
import { encodeWeight } from '../../src/testing/random.ts';
import type { MlaDecodeKernel } from '../mla_bench.ts';
import { MLA_DIMS } from '../mla_bench.ts';
import { syntheticActivations } from '../synthetic.ts';
import { oldMlaAttention } from './mla_attention_old.ts';

const W = MLA_DIMS.kvRank + MLA_DIMS.qkRope;

export const mlaDecodeBaseline: MlaDecodeKernel = {
  name: 'baseline mla_attention_attend (per head, f32 cache)',
  cache: (c, ctx) => c.k.upload(syntheticActivations(ctx * W, 12), [ctx, W]),
  run: (c, q, kvB, cache, pos) => oldMlaAttention(c.rt, asGpu(q), asGpu(kvB), cache, pos, MLA_DIMS),
  cacheBytesRead: (ctx) => MLA_DIMS.heads * ctx * W * 4,
};

/**
 * The engine's kernel. cacheBytesRead: what it reads beyond the bench's fixed q/o/kv_b bytes: the cache
 * rows once (tile loads), the partials the merge reads, and the absorbed q rows every split after the first
 * loads again (mlaDecodeBytes counts all of it; the one q read and the o write are the bench's fixed part).
 */
export function mlaDecodeEngine(dtype: 'f16' | 'f32' = 'f16'): MlaDecodeKernel {
  let adapterWg = 128;
  let workgroupBytes = 16384;
  let hpl: HeadsPerLane = 1; // the heads per lane the engine picks on this adapter (4 on CPU adapters)
  return {
    name: `mla_decode (all heads per split, ${dtype} cache)`,
    cache: (c, ctx) => {
      adapterWg = adapterWorkgroups(c.rt);
      workgroupBytes = c.rt.device.limits.maxComputeWorkgroupStorageSize;
      hpl = defaultHeadsPerLane(c.rt);
      const values = syntheticActivations(ctx * W, 12);
      return dtype === 'f32'
        ? c.k.upload(values, [ctx, W])
        : c.k.uploadWeight(encodeWeight(values, [ctx, W], 'f16'));
    },
    run: (c, q, kvB, cache, pos) => mlaDecode(c.rt, asGpu(q), asGpu(kvB), cache, pos, MLA_DIMS),
    cacheBytesRead: (ctx) => {
      const b = mlaDecodeBytes(MLA_DIMS, ctx, dtype === 'f16' ? 2 : 4, adapterWg, workgroupBytes, hpl);
      return b.cache + b.partials + b.qo - MLA_DIMS.heads * W * 4 - MLA_DIMS.heads * MLA_DIMS.v * 4;
    },
  };
}
