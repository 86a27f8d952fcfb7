// kimi-vl-web: Kimi-VL in the browser on WebGPU. Public API.
export { KimiVL, type KimiVLOptions } from './api/kimi_vl.ts';
export { isKimiVLError, KimiVLError, type KimiVLErrorName } from './errors.ts';
export type { AdapterDescription } from './gpu/device.ts';
