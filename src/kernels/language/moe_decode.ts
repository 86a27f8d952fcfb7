// moeExperts for one token (decode) by the router's device-side ids, two dispatches per expert-stack part
// and no grouping pass (ggml's mul_mat_id idea, on our GEMV: shaders/gemv.wgsl EXPERT_ROWS / SLOT_SUM):
//   1. h[a] = silu(gate_e · x') · (up_e · x'), e = ids[a], for every slot a: the workgroups of slot a read
//      only expert e's rows (x' = x, or rmsNorm(x) with the norm prologue: the FFN norm needs no dispatch);
//   2. y = Σ_a weights[a] · down_e · h[a] (+ addend): one pass over the A experts' down rows, the
//      router-weighted sum and the add in its epilogue (no combine dispatch).
// Expert stacks in parts (expert ranges, src/gpu/parted_tensor.ts): step 1 takes one dispatch per part
// (slots of other parts' experts exit at once); step 2 one per part, each adding the one before.
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { Tensor } from '../../tensor/types.ts';
import { gemvDispatch, gemvFormat } from '../core/gemv.ts';
import type { RmsNormWeight } from '../types.ts';

/** Whether the by-id kernels read these stacks: one storage form in 16-byte units, gate and up split alike. */
export function moeDecodeFits(gate: Tensor, up: Tensor, down: Tensor): boolean {
  const [D, I] = [gate.shape[2]!, gate.shape[1]!];
  const [pg, pu] = [partsOf(gate), partsOf(up)];
  return (
    gate.dtype === up.dtype &&
    gemvFormat(gate.dtype, D) !== 'elementwise' &&
    gemvFormat(down.dtype, I) !== 'elementwise' &&
    pg.length === pu.length &&
    pg.every((p, i) => p.start === pu[i]!.start && p.count === pu[i]!.count)
  );
}

/** y [1, D] for x [1, D], ids u32 [1, A], weights [1, A]; gate, up [E, I, D], down [E, D, I]. */
export function moeDecode(
  rt: GpuRuntime,
  x: GpuTensor,
  ids: GpuTensor,
  weights: GpuTensor,
  stacks: { gate: Tensor; up: Tensor; down: Tensor },
  addend?: GpuTensor,
  norm?: RmsNormWeight<GpuTensor>,
): GpuTensor {
  const { gate, up, down } = stacks;
  const [A, E, I, D] = [ids.shape[1]!, gate.shape[0]!, gate.shape[1]!, down.shape[1]!];
  const h = rt.alloc([A, I]); // [A, I] silu(g) · u per slot
  const pu = partsOf(up);
  partsOf(gate).forEach((p, i) => {
    const job = (w: GpuTensor) => ({ w, y: h, N: I, off: 0 });
    const experts = { ids, slots: A, E0: p.start, EN: p.count, E };
    gemvDispatch(
      rt,
      x,
      job(p.tensor),
      norm ? { norm } : {},
      { mode: 'glu', job: job(pu[i]!.tensor) },
      experts,
    );
  });
  let y = addend;
  for (const p of partsOf(down)) {
    const next = rt.alloc([1, D]);
    const experts = { ids, weights, slots: A, E0: p.start, EN: p.count, E };
    gemvDispatch(rt, h, { w: p.tensor, y: next, N: D, off: 0 }, y ? { residual: y } : {}, undefined, experts);
    if (y !== addend) rt.free(y!);
    y = next;
  }
  rt.free(h);
  return y!;
}
