// A counting backend: a GPUDevice that records what the runtime asks of it and executes nothing. The real
// 27-layer config can be "decoded" on it in Node (no adapter, no weight bytes), which is how the per-token
// figures (dispatches, submits, readbacks, uniform bytes, bytes read) are measured for a model no CI machine
// can hold. Readbacks map to zeros, so a counted generation samples id 0 every step.
//
// Only the subset of WebGPU the runtime, pipeline cache and buffer pool use is implemented; anything else
// throws, so a new use is noticed instead of silently counted as nothing.
import type { AcquiredDevice, GpuFeatures } from './device.ts';
import { GpuRuntime } from './runtime.ts';

/** What the device saw (the runtime's own stats count dispatches, submits, readbacks and uniform bytes). */
export interface CountingLog {
  buffersCreated: number;
  bytesAllocated: number;
  pipelinesCreated: number;
  bindGroupsCreated: number;
  writeBufferBytes: number;
  writeBufferCalls: number;
  submits: number;
  dispatches: number;
  copies: number;
}

export interface CountingOptions {
  /** Device limits (defaults: a large discrete GPU's, so the real config runs unsplit where it can). */
  limits?: Partial<Record<string, number>>;
  features?: Partial<GpuFeatures>;
  isFallbackAdapter?: boolean;
}

const DEFAULT_LIMITS: Record<string, number> = {
  maxStorageBufferBindingSize: 2 ** 31 - 4,
  maxBufferSize: 2 ** 31 - 4,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 10,
  maxBindingsPerBindGroup: 1000,
  minUniformBufferOffsetAlignment: 256,
  minStorageBufferOffsetAlignment: 256,
  maxUniformBufferBindingSize: 65536,
};

/** WebGPU's flag constants (spec values) where the host has none (Node without the webgpu package). */
function ensureWebGpuConstants(): void {
  const g = globalThis as Record<string, unknown>;
  g.GPUBufferUsage ??= {
    MAP_READ: 0x1,
    MAP_WRITE: 0x2,
    COPY_SRC: 0x4,
    COPY_DST: 0x8,
    INDEX: 0x10,
    VERTEX: 0x20,
    UNIFORM: 0x40,
    STORAGE: 0x80,
    INDIRECT: 0x100,
    QUERY_RESOLVE: 0x200,
  };
  g.GPUMapMode ??= { READ: 0x1, WRITE: 0x2 };
  g.GPUShaderStage ??= { VERTEX: 0x1, FRAGMENT: 0x2, COMPUTE: 0x4 };
}

function newLog(): CountingLog {
  return {
    buffersCreated: 0,
    bytesAllocated: 0,
    pipelinesCreated: 0,
    bindGroupsCreated: 0,
    writeBufferBytes: 0,
    writeBufferCalls: 0,
    submits: 0,
    dispatches: 0,
    copies: 0,
  };
}

/** A buffer without storage: mapping hands out zeros of its size, only when asked (weights never are). */
function countingBuffer(desc: GPUBufferDescriptor): GPUBuffer {
  let mapped: ArrayBuffer | null = null;
  const b = {
    size: desc.size,
    usage: desc.usage,
    label: desc.label ?? '',
    mapState: 'unmapped',
    getMappedRange: () => {
      mapped ??= new ArrayBuffer(desc.size);
      return mapped;
    },
    unmap: () => {
      mapped = null;
    },
    mapAsync: () => Promise.resolve(),
    destroy: () => {},
  };
  return b as unknown as GPUBuffer;
}

function unsupported(what: string): never {
  throw new Error(`counting device: ${what} is not implemented (the runtime did not use it before)`);
}

/** The device; `log` fills as the runtime records. */
export function createCountingDevice(opts: CountingOptions = {}): { device: GPUDevice; log: CountingLog } {
  ensureWebGpuConstants();
  const log = newLog();
  const limits = { ...DEFAULT_LIMITS, ...opts.limits } as unknown as GPUSupportedLimits;
  const pass = {
    setPipeline: () => {},
    setBindGroup: () => {},
    dispatchWorkgroups: () => {
      log.dispatches++;
    },
    dispatchWorkgroupsIndirect: () => unsupported('dispatchWorkgroupsIndirect'),
    end: () => {},
  };
  const encoder = () => ({
    beginComputePass: () => pass,
    copyBufferToBuffer: () => {
      log.copies++;
    },
    clearBuffer: () => {},
    writeTimestamp: () => {},
    resolveQuerySet: () => {},
    finish: () => ({}) as GPUCommandBuffer,
  });
  const device = {
    limits,
    features: new Set<string>(),
    lost: new Promise<GPUDeviceLostInfo>(() => {}),
    addEventListener: () => {},
    createBuffer: (desc: GPUBufferDescriptor) => {
      log.buffersCreated++;
      log.bytesAllocated += desc.size;
      return countingBuffer(desc);
    },
    createBindGroup: () => {
      log.bindGroupsCreated++;
      return {} as GPUBindGroup;
    },
    createBindGroupLayout: () => ({}) as GPUBindGroupLayout,
    createPipelineLayout: () => ({}) as GPUPipelineLayout,
    createShaderModule: () => ({ getCompilationInfo: async () => ({ messages: [] }) }),
    createComputePipeline: () => {
      log.pipelinesCreated++;
      return { getBindGroupLayout: () => ({}) } as unknown as GPUComputePipeline;
    },
    createCommandEncoder: encoder,
    createQuerySet: () => unsupported('createQuerySet'),
    pushErrorScope: () => {},
    popErrorScope: async () => null,
    queue: {
      writeBuffer: (
        _b: GPUBuffer,
        _o: number,
        data: ArrayBufferLike | ArrayBufferView,
        _d = 0,
        size?: number,
      ) => {
        log.writeBufferCalls++;
        log.writeBufferBytes += size ?? (data as ArrayBuffer).byteLength;
      },
      submit: (cbs: GPUCommandBuffer[]) => {
        log.submits += cbs.length ? 1 : 0;
      },
      onSubmittedWorkDone: async () => {},
    },
    destroy: () => {},
  };
  return { device: device as unknown as GPUDevice, log };
}

/** A GpuRuntime over the counting device (the same runtime code path as on a GPU, minus execution). */
export function createCountingRuntime(opts: CountingOptions = {}): { rt: GpuRuntime; log: CountingLog } {
  const { device, log } = createCountingDevice(opts);
  const features: GpuFeatures = { shaderF16: true, subgroups: true, timestampQuery: false, ...opts.features };
  const acquired: AcquiredDevice = {
    adapter: {} as GPUAdapter,
    device,
    features,
    info: {
      vendor: 'counting',
      architecture: 'counting',
      device: 'counting',
      description: 'counting backend (records, executes nothing)',
      isFallbackAdapter: opts.isFallbackAdapter ?? false,
      features: Object.entries(features)
        .filter(([, on]) => on)
        .map(([f]) => f),
      limits: { ...(limits(opts) as Record<string, number>) },
    },
  };
  const rt = GpuRuntime.fromDevice(acquired, { executes: false });
  return { rt, log };
}

function limits(opts: CountingOptions): Record<string, number> {
  return { ...DEFAULT_LIMITS, ...(opts.limits as Record<string, number>) };
}
