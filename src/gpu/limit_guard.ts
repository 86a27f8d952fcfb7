// Buffer limits the engine enforces itself, at or below the device's: the engine option
// `limits: { maxStorageBufferBindingSize, maxBufferSize }` (and `kimi-vl golden --max-binding-bytes N`)
// makes a large GPU behave like a small one, so a test on any machine proves that nothing larger is
// ever created or bound. The guard wraps the device's own createBuffer / createBindGroup, so every
// buffer the runtime, the pool or a kernel makes passes through it, whoever calls.
import { KimiVLError } from '../errors.ts';

export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export interface LimitGuard {
  readonly limits: BufferLimits;
  /** Largest buffer created and largest storage binding bound so far (bytes). */
  readonly seen: { largestBuffer: number; largestStorageBuffer: number; largestBinding: number };
}

const STORAGE = 0x0080; // GPUBufferUsage.STORAGE (a number here: Node-side imports have no GPUBufferUsage)

/** The effective limits: the device's, lowered (never raised) by the caller's. */
export function effectiveLimits(device: BufferLimits, cap?: Partial<BufferLimits>): BufferLimits {
  const low = (a: number, b: number | undefined) => (b !== undefined && b > 0 ? Math.min(a, b) : a);
  return {
    maxStorageBufferBindingSize: low(device.maxStorageBufferBindingSize, cap?.maxStorageBufferBindingSize),
    maxBufferSize: low(device.maxBufferSize, cap?.maxBufferSize),
  };
}

export function gpuLimitError(what: string, bytes: number, limitName: string, limit: number): KimiVLError {
  return new KimiVLError(
    'GpuLimitError',
    `${what} needs ${bytes} bytes but ${limitName} is ${limit} on this device (or as capped by the ` +
      '`limits` option), and this buffer is not one the engine holds in parts. Choose a smaller ' +
      'quantisation, context or image, or a GPU with larger limits.',
  );
}

/** Installs the guard on `device` (idempotent per device: a second call replaces the limits). */
export function installLimitGuard(device: GPUDevice, limits: BufferLimits): LimitGuard {
  const guard: LimitGuard = {
    limits,
    seen: { largestBuffer: 0, largestStorageBuffer: 0, largestBinding: 0 },
  };
  const target = device as GPUDevice & { kimiLimitGuard?: LimitGuard };
  const proto = Object.getPrototypeOf(device) as GPUDevice;
  target.kimiLimitGuard = guard;
  const createBuffer = proto.createBuffer;
  const createBindGroup = proto.createBindGroup;
  target.createBuffer = function (desc: GPUBufferDescriptor): GPUBuffer {
    const g = target.kimiLimitGuard!;
    const label = desc.label ? `buffer "${desc.label}"` : 'a buffer';
    if (desc.size > g.limits.maxBufferSize)
      throw gpuLimitError(label, desc.size, 'maxBufferSize', g.limits.maxBufferSize);
    const storage = (desc.usage & STORAGE) !== 0;
    if (storage && desc.size > g.limits.maxStorageBufferBindingSize)
      throw gpuLimitError(
        `storage ${label}`,
        desc.size,
        'maxStorageBufferBindingSize',
        g.limits.maxStorageBufferBindingSize,
      );
    g.seen.largestBuffer = Math.max(g.seen.largestBuffer, desc.size);
    if (storage) g.seen.largestStorageBuffer = Math.max(g.seen.largestStorageBuffer, desc.size);
    return createBuffer.call(this, desc);
  };
  target.createBindGroup = function (desc: GPUBindGroupDescriptor): GPUBindGroup {
    const g = target.kimiLimitGuard!;
    for (const e of desc.entries as Iterable<GPUBindGroupEntry>) {
      const r = e.resource as GPUBufferBinding;
      if (!r || typeof r !== 'object' || !('buffer' in r)) continue;
      const size = r.size ?? r.buffer.size - (r.offset ?? 0);
      if ((r.buffer.usage & STORAGE) !== 0) {
        if (size > g.limits.maxStorageBufferBindingSize)
          throw gpuLimitError(
            `binding ${e.binding}${desc.label ? ` of ${desc.label}` : ''}`,
            size,
            'maxStorageBufferBindingSize',
            g.limits.maxStorageBufferBindingSize,
          );
        g.seen.largestBinding = Math.max(g.seen.largestBinding, size);
      }
    }
    return createBindGroup.call(this, desc);
  };
  return guard;
}

/** The guard installed on a device, if any (tests read what it saw). */
export function limitGuardOf(device: GPUDevice): LimitGuard | null {
  return (device as GPUDevice & { kimiLimitGuard?: LimitGuard }).kimiLimitGuard ?? null;
}
