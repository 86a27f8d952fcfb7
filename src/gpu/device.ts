// Adapter and device acquisition: request the limits a model needs (never more than the adapter has),
// detect optional features, and turn "no WebGPU" and device loss into typed errors.
import { KimiVLError } from '../errors.ts';

export interface GpuFeatures {
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

export interface DeviceRequest {
  powerPreference?: GPUPowerPreference;
  /** Bytes the largest single binding must hold (e.g. from the memory plan); defaults to the adapter max. */
  minStorageBinding?: number;
  /** Disable optional features (tests of the fallback paths). */
  disableFeatures?: Array<keyof GpuFeatures>;
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  features: GpuFeatures;
  info: AdapterDescription;
}

const LIMITS_WANTED = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') limits[key] = v;
  }
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    features: [...adapter.features].sort(),
    limits,
  };
}

export async function requestAdapter(
  powerPreference: GPUPowerPreference = 'high-performance',
): Promise<GPUAdapter> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new KimiVLError(
      'WebGPUUnavailableError',
      'WebGPU is not available in this browser (navigator.gpu is missing). Use a recent Chrome/Edge (113+), ' +
        'Safari 26+ or Firefox 141+ on a page served over https or localhost.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) {
    throw new KimiVLError(
      'WebGPUUnavailableError',
      'No WebGPU adapter was found: the GPU may be blocklisted or disabled. Check chrome://gpu, update the ' +
        'graphics driver, or start Chromium with --enable-unsafe-webgpu.',
    );
  }
  return adapter;
}

export async function acquireDevice(req: DeviceRequest = {}): Promise<AcquiredDevice> {
  const adapter = await requestAdapter(req.powerPreference);
  const has = (f: string) => adapter.features.has(f as GPUFeatureName);
  const off = new Set(req.disableFeatures ?? []);
  const features: GpuFeatures = {
    shaderF16: has('shader-f16') && !off.has('shaderF16'),
    subgroups: has('subgroups') && !off.has('subgroups'),
    timestampQuery: has('timestamp-query') && !off.has('timestampQuery'),
  };
  const requiredFeatures: GPUFeatureName[] = [];
  if (features.shaderF16) requiredFeatures.push('shader-f16');
  if (features.subgroups) requiredFeatures.push('subgroups' as GPUFeatureName);
  if (features.timestampQuery) requiredFeatures.push('timestamp-query');

  const requiredLimits: Record<string, number> = {};
  for (const key of LIMITS_WANTED) requiredLimits[key] = adapter.limits[key];
  if (
    req.minStorageBinding !== undefined &&
    req.minStorageBinding > adapter.limits.maxStorageBufferBindingSize
  ) {
    throw new KimiVLError(
      'GpuLimitError',
      `This GPU binds at most ${adapter.limits.maxStorageBufferBindingSize} bytes per buffer but the model needs ` +
        `${req.minStorageBinding}. Choose a smaller quantisation or a GPU with larger limits.`,
    );
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  return { adapter, device, features, info: describeAdapter(adapter) };
}
