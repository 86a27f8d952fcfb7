// Per decoded token of the real 27-layer config, counted on the engine's counting backend
// (src/gpu/counting.ts: the same runtime and kernels, recording without executing, no weight bytes), at
// contexts 4K and 32K: dispatches, submits, readbacks, uniform bytes uploaded, and the bytes read against
// the theoretical minimum (active parameters at the quantisation + the latent cache once in f16).
//
// Bytes read = what the kernels report (DispatchSpec.bytesRead, else weightBytes) + for an attention
// dispatch that does not report its cache reads, the cache rows it streams, modelled from its kernel
// (bench/kv_reads.ts). The loop is the bench's decode step (step → sample → read the id).
import type { KimiVLConfig } from '../src/config/config.ts';
import { createCountingRuntime } from '../src/gpu/counting.ts';
import type { DispatchSpec, GpuRuntime } from '../src/gpu/runtime.ts';
import { createGpuKernels } from '../src/kernels/gpu_kernels.ts';
import type { SamplingParams } from '../src/kernels/types.ts';
import { KimiVLModel } from '../src/model/kimi_vl.ts';
import { USER_KV_CACHE_DTYPE } from '../src/model/kv_cache.ts';
import type { HostWeight } from '../src/tensor/types.ts';
import { type PlanQuant, planMemory } from '../src/weights/memory_plan.ts';
import { activeWeightBytes, minKvBytes } from './active_bytes.ts';
import { modelledCacheBytes } from './kv_reads.ts';
import type { PerTokenRow } from './types.ts';

const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

/** Per-op tallies of what a runtime recorded (a wrapper around rt.dispatch). */
export interface OpLedger {
  dispatches: Map<string, number>;
  /** Cache bytes modelled for attention dispatches that report none. */
  modelledKvBytes: number;
  /** Cache bytes the attention dispatches reported themselves. */
  reportedKvBytes: number;
  /** Puts the runtime's own dispatch back. */
  detach(): void;
}

/** Wraps rt.dispatch to tally ops and attention cache reads; returns the ledger. */
export function attachLedger(rt: GpuRuntime, kvWidth: number): OpLedger {
  const target = rt as { dispatch: (s: DispatchSpec) => void };
  const inner = rt.dispatch.bind(rt);
  const ledger: OpLedger = {
    dispatches: new Map(),
    modelledKvBytes: 0,
    reportedKvBytes: 0,
    detach: () => {
      delete (target as Partial<typeof target>).dispatch; // back to the prototype's
    },
  };
  target.dispatch = (spec: DispatchSpec) => {
    ledger.dispatches.set(spec.op, (ledger.dispatches.get(spec.op) ?? 0) + 1);
    const kv = modelledCacheBytes(spec, kvWidth);
    if (kv) {
      if (kv.reported) ledger.reportedKvBytes += kv.bytes;
      else ledger.modelledKvBytes += kv.bytes;
    }
    inner(spec);
  };
  return ledger;
}

/** The per-op dispatch counts added between two ledger snapshots, most first. */
function opsSince(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>) {
  const added = [...after]
    .map(([op, n]) => [op, n - (before.get(op) ?? 0)] as const)
    .filter(([, n]) => n > 0);
  return Object.fromEntries(added.sort((a, b) => b[1] - a[1]));
}

/** Engine-named weights with the plan's dtype and shape and no bytes (the counting runtime needs none). */
export function shapeOnly(cfg: KimiVLConfig, quant: PlanQuant): Map<string, HostWeight> {
  const host = new Map<string, HostWeight>();
  for (const t of planMemory(cfg, { quant, context: 1 }).tensors)
    host.set(t.name, { dtype: t.dtype, shape: [...t.shape], bytes: new Uint8Array(0) });
  return host;
}

/** The f16 minimum: active weights + the latent cache once at 2 bytes per element. */
export function minTokenBytes(cfg: KimiVLConfig, host: ReadonlyMap<string, HostWeight>, pos: number): number {
  return activeWeightBytes(cfg, (n) => host.get(n)!.dtype) + minKvBytes(cfg, pos) / 2;
}

export async function countToken(
  cfg: KimiVLConfig,
  quant: PlanQuant,
  context: number,
  model = 'Kimi-VL-A3B (27 layers)',
): Promise<PerTokenRow> {
  const { rt } = createCountingRuntime();
  const t = cfg.text;
  const ledger = attachLedger(rt, t.kvLoraRank + t.qkRopeHeadDim);
  const k = createGpuKernels(rt);
  const host = shapeOnly(cfg, quant);
  const m = KimiVLModel.load(k, cfg, host);
  const cache = m.newCache(k, context + 4, USER_KV_CACHE_DTYPE); // the cache users run (f16)
  try {
    // the cache "holds" context − 1 positions (their values are never read on this backend)
    cache.commit(0, new Array<number>(context - 1).fill(0));
    let id = 0;
    const step = async (i: number) => {
      const logits = m.step(k, [id], cache);
      const tok = k.sample(logits, null, GREEDY, i);
      id = (await k.readU32(tok))[0]!;
      k.release(logits, tok);
    };
    await step(0); // first step creates pipelines and bind groups: not the steady state
    const s0 = { ...rt.stats };
    const ops0 = new Map(ledger.dispatches);
    const kv0 = ledger.modelledKvBytes + ledger.reportedKvBytes;
    const modelled0 = ledger.modelledKvBytes;
    await step(1); // the token at position context − 1 + 1 = context
    const d = (key: keyof typeof s0) => rt.stats[key] - s0[key];
    const kvBytes = ledger.modelledKvBytes + ledger.reportedKvBytes - kv0;
    const modelled = ledger.modelledKvBytes - modelled0;
    const bytesRead = d('bytesRead') + modelled;
    const minBytes = minTokenBytes(cfg, host, context);
    return {
      model,
      quant,
      context,
      counter: 'src/gpu/counting.ts (counting runtime), bench decode step',
      dispatches: d('dispatches'),
      dispatchesByOp: opsSince(ops0, ledger.dispatches),
      submits: d('submits'),
      readbacks: d('readbacks'),
      uniformBytes: d('uniformBytes'),
      bytesRead,
      kvBytesRead: kvBytes,
      minBytes,
      ratio: bytesRead / minBytes,
    };
  } finally {
    ledger.detach();
    cache.release(k);
    m.release(k);
    rt.destroy();
  }
}

export async function runPerTokenCounts(
  fullConfig: KimiVLConfig,
  log: (s: string) => void,
  contexts: readonly number[] = [4096, 32768],
): Promise<PerTokenRow[]> {
  const rows: PerTokenRow[] = [];
  for (const quant of ['q4', 'q8'] as const)
    for (const ctx of contexts) {
      const r = await countToken(fullConfig, quant, ctx);
      log(
        `per token ${quant} ctx ${ctx}: ${r.dispatches} dispatches, ${r.submits} submits, ${r.readbacks} readbacks, ${(r.uniformBytes / 1e3).toFixed(1)} kB uniforms, ${(r.bytesRead / 1e9).toFixed(3)} GB read / ${(r.minBytes / 1e9).toFixed(3)} GB min = ${r.ratio.toFixed(3)}`,
      );
      rows.push(r);
    }
  return rows;
}
