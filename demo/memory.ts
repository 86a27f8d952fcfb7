// Download size and GPU memory of a catalogue entry for each quantisation, and whether it fits this
// device: from config.json alone through the engine's memory plan (src/weights/memory_plan.ts), the
// same numbers `kimi-vl plan` prints. The demo reads only WebGPU's adapter (no device is created).
import { parseConfig } from '../src/config/config.ts';
import {
  type DeviceLimits,
  planFitsDevice,
  planMemory,
  WEBGPU_DEFAULT_LIMITS,
} from '../src/weights/memory_plan.ts';

export type Quant = 'none' | 'q8' | 'q4';
export const QUANTS: readonly Quant[] = ['none', 'q8', 'q4'];

export interface QuantFigures {
  quant: Quant;
  gpuBytes: number;
  fits: boolean;
  why: string;
}

export interface ModelFigures {
  /** The checkpoint as stored (bf16): what is downloaded whatever the quantisation (converted on load). */
  downloadBytes: number;
  perQuant: QuantFigures[];
}

export interface DeviceBudget {
  limits: DeviceLimits;
  /** Bytes the demo assumes the GPU can give one tab (WebGPU does not report memory). */
  memoryBytes: number;
  label: string;
}

/** WebGPU hides the GPU's memory: assume half the device memory the browser reports (4 GiB when it does not). */
export async function deviceBudget(): Promise<DeviceBudget | null> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const deviceMemoryGiB = (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? 8;
  const memoryBytes = (deviceMemoryGiB / 2) * 2 ** 30;
  return {
    limits: {
      maxBufferSize: adapter.limits.maxBufferSize ?? WEBGPU_DEFAULT_LIMITS.maxBufferSize,
      maxStorageBufferBindingSize:
        adapter.limits.maxStorageBufferBindingSize ?? WEBGPU_DEFAULT_LIMITS.maxStorageBufferBindingSize,
    },
    memoryBytes,
    label: `about ${(memoryBytes / 2 ** 30).toFixed(0)} GiB for this tab (half the ${deviceMemoryGiB} GiB the browser reports)`,
  };
}

const PLAN_QUANT = { none: 'bf16', q8: 'q8', q4: 'q4' } as const;
const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;

export function modelFigures(
  configJson: unknown,
  context: number,
  budget: DeviceBudget | null,
): ModelFigures {
  const config = parseConfig(configJson);
  const stored = planMemory(config, { quant: 'bf16', context });
  return {
    downloadBytes: stored.weightBytes,
    perQuant: QUANTS.map((quant) => {
      const plan = planMemory(config, { quant: PLAN_QUANT[quant], context });
      if (!budget) return { quant, gpuBytes: plan.totalBytes, fits: false, why: 'no WebGPU adapter here' };
      const binding = planFitsDevice(plan, budget.limits);
      const fitsMemory = plan.totalBytes <= budget.memoryBytes;
      const why = !binding.fits
        ? binding.explanation.join('; ')
        : fitsMemory
          ? `${gib(plan.totalBytes)} of ${budget.label}`
          : `needs ${gib(plan.totalBytes)}; ${budget.label}`;
      return { quant, gpuBytes: plan.totalBytes, fits: binding.fits && fitsMemory, why };
    }),
  };
}
