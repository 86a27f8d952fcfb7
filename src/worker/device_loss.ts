// Device loss: how a failure is recognised as one, and the test hook that causes one on purpose.
//
// A lost GPUDevice fails in many shapes (mapAsync's AbortError, a pipeline that cannot be created, our
// own DeviceLostError from the runtime); asDeviceLoss names them all DeviceLostError with the browser's
// reason. The reference backend has no device, so the hook simulates one: after the loss every kernel
// call throws DeviceLostError, as the GPU runtime's calls do.
import { isKimiVLError, KimiVLError } from '../errors.ts';
import { deviceLostError } from '../gpu/runtime.ts';
import type { Kernels } from '../kernels/types.ts';
import type { LoadedEngineState } from './engine_state.ts';

/** The DeviceLostError behind `e` when the model's device is lost, else null. */
export async function asDeviceLoss(s: LoadedEngineState, e: unknown): Promise<KimiVLError | null> {
  if (isKimiVLError(e, 'DeviceLostError')) return e;
  if (!s.rt) return null;
  // Our own typed errors (context overflow, bad input, an unload's AbortError) are not device failures:
  // no need to wait for device.lost. Anything else (mapAsync's DOMException AbortError, an OperationError)
  // may be the first sign of a loss.
  if (e instanceof KimiVLError) return s.rt.isLost ? s.rt.deviceLoss(e) : null;
  return s.rt.deviceLoss(e);
}

/** Calls that stay allowed on a lost device (freeing is always fine, as in WebGPU). */
const ALLOWED_WHEN_LOST = new Set<PropertyKey>(['release', 'clearVisionTables']);

/** Kernels that can be made to lose their device (the engine wraps every loaded model's kernels). */
export interface LossSwitch {
  kernels: Kernels;
  /**
   * Loses the device after `afterCalls` more kernel calls (0: now). `lose` destroys a real device (and
   * returns null: the runtime then fails by itself) or returns the error a simulated device throws from
   * then on.
   */
  arm(afterCalls: number, lose: () => KimiVLError | null): void;
}

export function lossSwitch(k: Kernels): LossSwitch {
  let remaining = -1; // not armed
  let lose: (() => KimiVLError | null) | null = null;
  let failure: KimiVLError | null = null;
  const fire = () => {
    remaining = -1;
    failure = lose?.() ?? null;
  };
  const kernels = new Proxy(k, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (remaining > 0 && --remaining === 0) fire();
        if (failure && !ALLOWED_WHEN_LOST.has(prop)) throw failure;
        return value.apply(target, args);
      };
    },
  });
  return {
    kernels,
    arm(afterCalls, how) {
      lose = how;
      remaining = Math.max(0, Math.floor(afterCalls));
      if (remaining === 0) fire();
    },
  };
}

/** The error of a simulated loss on the reference backend. */
export const simulatedLoss = () =>
  deviceLostError('destroyed', 'loseDeviceForTest() simulated a device loss on the reference backend');
