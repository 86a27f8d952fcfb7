// ONNX Runtime Web (the engine inside @huggingface/transformers) on its WebGPU backend, loaded from
// node_modules through the dev server: nothing is fetched from the internet. Inputs live on the GPU and
// outputs stay there ('gpu-buffer'), so a timed run is the kernels plus ORT's own per-run overhead.
import type * as OrtModule from 'onnxruntime-web';
import { f16BitsToF32 } from '../src/tensor/half.ts';
import { type Timing, type TimingOptions, timeRuns } from './timing.ts';

type Ort = typeof OrtModule;

export interface PeerInput {
  name: string;
  dtype: 'float32' | 'float16';
  dims: number[];
  /** Element bytes, little-endian. */
  bytes: Uint8Array;
}

let ortPromise: Promise<Ort> | null = null;

export function loadOrt(): Promise<Ort> {
  ortPromise ??= (async () => {
    const base = `${location.origin}/node_modules/onnxruntime-web/dist/`;
    const ort = (await import(/* @vite-ignore */ `${base}ort.webgpu.min.mjs`)) as Ort;
    ort.env.wasm.wasmPaths = base;
    // Not cross-origin isolated: no SharedArrayBuffer, so ORT's wasm side runs single-threaded anyway.
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    return ort;
  })();
  return ortPromise;
}

export interface PeerRun {
  timing: Timing;
  /** The output of one run, for the agreement check. */
  output: Float32Array;
  version: string;
}

function toF32(data: unknown): Float32Array {
  if (data instanceof Float32Array) return data;
  // float16 outputs arrive as raw bits
  if (data instanceof Uint16Array) return Float32Array.from(data, f16BitsToF32);
  return Float32Array.from(data as ArrayLike<number>);
}

/** Builds a session for `model`, times `session.run` on GPU-resident inputs, returns the median. */
export async function runPeer(model: Uint8Array, inputs: PeerInput[], o: TimingOptions): Promise<PeerRun> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
    preferredOutputLocation: 'gpu-buffer',
  });
  const device = (await ort.env.webgpu.device) as GPUDevice;
  const buffers: GPUBuffer[] = [];
  const feeds: Record<string, OrtModule.Tensor> = {};
  for (const inp of inputs) {
    const size = Math.ceil(inp.bytes.byteLength / 16) * 16;
    const buffer = device.createBuffer({
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const padded = new Uint8Array(size);
    padded.set(inp.bytes);
    device.queue.writeBuffer(buffer, 0, padded);
    buffers.push(buffer);
    feeds[inp.name] = ort.Tensor.fromGpuBuffer(buffer, { dataType: inp.dtype, dims: inp.dims });
  }
  try {
    const first = await session.run(feeds);
    const out = first[session.outputNames[0]!]!;
    const output = toF32(await out.getData());
    out.dispose();
    const timing = await timeRuns(
      async () => {
        const r = await session.run(feeds);
        for (const t of Object.values(r)) t.dispose();
      },
      () => device.queue.onSubmittedWorkDone(),
      o,
    );
    return { timing, output, version: ort.env.versions.web ?? 'unknown' };
  } finally {
    await session.release();
    for (const b of buffers) b.destroy();
  }
}
