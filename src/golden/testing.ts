// Test support for the golden model tests: kernels that record the router's choices of a forward pass.
import type { Kernels } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';

export interface RoutingRecorder {
  /** `base` whose moeRoute records its ids and whose release keeps recorded ids alive. */
  k: Kernels;
  /** The recorded ids, one array per MoE layer call in call order; releases and forgets them. */
  take(): Promise<Uint32Array[]>;
  /** Releases and forgets the recorded ids unread (decode steps, whose routing is not checked). */
  drop(): void;
}

export function recordRouting(base: Kernels): RoutingRecorder {
  const ids: Tensor[] = [];
  const k: Kernels = {
    ...base,
    moeRoute(x, g, b, r, norm) {
      const out = base.moeRoute(x, g, b, r, norm);
      ids.push(out.ids); // the model releases them after the experts: kept alive for take()
      return out;
    },
    release(...ts) {
      base.release(...ts.filter((t) => !ids.includes(t)));
    },
  };
  const drop = () => base.release(...ids.splice(0));
  return {
    k,
    async take() {
      const got = await Promise.all(ids.map((t) => base.readU32(t)));
      drop();
      return got;
    },
    drop,
  };
}
