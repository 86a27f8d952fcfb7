// Side by side with ONNX Runtime Web's WebGPU backend on the same adapter, same page, same inputs:
// linear layers (bench/peer_linear.ts) and patch attention (bench/peer_attention.ts). Every row reports
// ours/theirs, the variant of ours that ran, every way the peer ran, and how closely the outputs agree.
import type { BenchContext } from './kernel_bench.ts';
import { runAttentionPeers } from './peer_attention.ts';
import { runLinearPeers } from './peer_linear.ts';
import type { PeerRow } from './types.ts';

export async function runPeerBenches(c: BenchContext, log: (s: string) => void): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  const add = (r: PeerRow) => {
    rows.push(r);
    log(
      `peer ${r.op} ${r.shape} ${r.quant} [${r.variant ?? '?'}]: ${r.skipped ?? `ours ${r.oursMs!.toFixed(3)} ms, ${r.peerOp} ${r.peerMs!.toFixed(3)} ms, ratio ${r.ratio!.toFixed(2)}`}`,
    );
  };
  await runLinearPeers(c, add);
  await runAttentionPeers(c, add);
  return rows;
}
