// LanguageOps + SamplingOps on the GPU backend: each method forwards to its op module. Expert stacks and
// the KV cache may be in parts (src/gpu/parted_tensor.ts): those ops take them as they are.
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { asGpu } from '../../gpu/tensor.ts';
import type { LanguageOps, SamplingOps } from '../types.ts';
import { kvCacheWrite } from './kv_cache_write.ts';
import { latentCache } from './latent_cache.ts';
import { mlaAttention } from './mla_attention.ts';
import { latentRowWrite } from './mla_decode_kv_write.ts';
import { mlaPrefill } from './mla_prefill.ts';
import { moeExperts } from './moe_experts.ts';
import { moeRoute } from './moe_route.ts';
import { rope } from './rope.ts';
import { sample } from './sample.ts';

export function createGpuLanguageOps(rt: GpuRuntime): LanguageOps & SamplingOps {
  return {
    rope: (x, o) => rope(rt, asGpu(x), o),
    kvCacheWrite: (cache, c, kPe, pos0) => kvCacheWrite(rt, cache, asGpu(c), asGpu(kPe), pos0),
    latentCache: (shape, dtype) => latentCache(rt, shape, dtype),
    latentRowWrite: (cache, kva, norm, eps, o) => latentRowWrite(rt, cache, asGpu(kva), asGpu(norm), eps, o),
    // Prefill (T > 1) in the non-absorbed form (mla_prefill.ts), decode in the absorbed one: the same function.
    mlaAttention: (q, kvB, cache, pos0, d, qRope) =>
      (q.shape[0] ?? 1) > 1
        ? mlaPrefill(rt, asGpu(q), asGpu(kvB), cache, pos0, d, qRope)
        : mlaAttention(rt, asGpu(q), asGpu(kvB), cache, pos0, d, qRope),
    moeRoute: (x, gate, bias, cfg, norm) =>
      moeRoute(
        rt,
        asGpu(x),
        asGpu(gate),
        asGpu(bias),
        cfg,
        norm && { weight: asGpu(norm.weight), eps: norm.eps },
      ),
    moeExperts: (x, ids, w, g, u, d, add, norm) =>
      moeExperts(
        rt,
        asGpu(x),
        asGpu(ids),
        asGpu(w),
        g,
        u,
        d,
        add && asGpu(add),
        norm && { weight: asGpu(norm.weight), eps: norm.eps },
      ),
    sample: (logits, history, p, step) => sample(rt, asGpu(logits), history && asGpu(history), p, step),
  };
}
