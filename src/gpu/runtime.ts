// GpuRuntime: records kernel dispatches into one compute pass and submits them on flush.
//
// Why it is shaped like this:
// - Per-call shapes go to binding 0 through ONE uniform arena with dynamic offsets. The arena buffer never
//   changes, so a bind group depends only on the storage buffers it binds; with pooled activations
//   released in a fixed order, a decode step re-uses every bind group of the previous step.
// - Nothing is read back until read() is awaited: a forward pass is one submission.
// - Device loss and uncaptured validation errors are remembered and thrown as typed errors at the next
//   call, so a lost device never looks like a hang or a wrong answer.
import { KimiVLError } from '../errors.ts';
import type { DType, HostWeight } from '../tensor/types.ts';
import { BufferPool } from './buffer_pool.ts';
import { type AcquiredDevice, acquireDevice, type DeviceRequest, type GpuFeatures } from './device.ts';
import { type Access, PipelineCache } from './pipelines.ts';
import { GpuTensor, storageBytes } from './tensor.ts';
import type { UniformLayout } from './uniforms.ts';
import type { Defines } from './wgsl_preprocess.ts';

export interface Binding {
  tensor: GpuTensor;
  access: Access;
}

export interface DispatchSpec<P extends Record<string, number> = Record<string, number>> {
  op: string;
  source: string;
  defines?: Defines;
  overrides?: Readonly<Record<string, number>>;
  uniforms: UniformLayout;
  params: P;
  bindings: readonly Binding[];
  workgroups: readonly [number, number?, number?];
  /** Weight bytes this dispatch reads (instrumentation for bytes-per-token). */
  weightBytes?: number;
}

/** Per-adapter kernel choices (kernels read them; tests override them to cover every variant). */
export interface Tuning {
  /** M > 1 matmul: 'tiled' (the big-tile GEMM, for GPUs), 'direct' (no barriers, for CPU adapters like
   *  SwiftShader) or 'classic' (the 64×64 kernel the tiled GEMM replaced: a bench baseline). */
  matmul: 'tiled' | 'direct' | 'classic';
  /** Tiles of the tiled GEMM (rows × columns per workgroup); 'auto' chooses by shape (matmul_tiling.ts). */
  matmulTile: 'auto' | '64x64' | '128x64' | '128x128';
  /** Staged operand tiles of the tiled GEMM: 'f16' (packed in u32 where the adapter lacks shader-f16) or 'f32'. */
  matmulTiles: 'f16' | 'f32';
  /** Routed experts at T > 1: 'tiled' (the tiled GEMM over each expert's gathered rows) or 'rows' (a thread
   *  per output row, ≤ 16 tokens per tile: cheaper where barriers are expensive, as on CPU adapters). */
  moePrefill: 'tiled' | 'rows';
  /** MoonViT attention: 'flash' (FlashAttention-2 tiles) or 'varlen' (one thread per query: the reference mode). */
  visionAttention: 'flash' | 'varlen';
  /** Staged K/V tiles of the flash kernel: 'f16' (packed in u32 where the adapter lacks shader-f16) or 'f32'. */
  attentionTiles: 'f16' | 'f32';
  /** Subgroup reductions where the adapter has them; false forces the workgroup-memory path. */
  subgroups: boolean;
}

export interface RuntimeStats {
  dispatches: number;
  submits: number;
  readbacks: number;
  weightBytes: number;
  bindGroupsCreated: number;
}

const ARENA_BYTES = 4 << 20;

/** The error every GPU failure caused by a lost device becomes, with the browser's reason. */
export function deviceLostError(reason: string, message: string): KimiVLError {
  return new KimiVLError(
    'DeviceLostError',
    `The GPU device was lost (${reason}: ${message || 'no details'}). With autoRecover (the default) the ` +
      'engine reloads by itself; otherwise load the model again. If it keeps happening the GPU ran out of ' +
      'memory or the driver reset.',
  );
}
// A function, not a constant: this module is imported by Node-side test helpers, where GPUBufferUsage is absent.
const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class GpuRuntime {
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  readonly tuning: Tuning;
  readonly stats: RuntimeStats = {
    dispatches: 0,
    submits: 0,
    readbacks: 0,
    weightBytes: 0,
    bindGroupsCreated: 0,
  };
  private debugLevel = 0;

  /** 0 quiet, 1 timings (callers), 2 + every new pipeline with its WGSL, 3 + a trace line per dispatch. */
  get debug(): number {
    return this.debugLevel;
  }
  set debug(level: number) {
    this.debugLevel = level;
    this.pipelines.debug = level;
  }

  private readonly arena: GPUBuffer;
  private readonly arenaHost = new DataView(new ArrayBuffer(ARENA_BYTES));
  private readonly arenaAlign: number;
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private failure: KimiVLError | null = null;
  private destroyed = false;
  /** Owned (unpooled) buffers freed while the pass that uses them is still unsubmitted. */
  private readonly ownedRetired: GPUBuffer[] = [];
  private lostInfo: { reason: string; message: string } | null = null;
  private readonly lostListeners: Array<(e: KimiVLError) => void> = [];

  private constructor(
    readonly device: GPUDevice,
    readonly features: GpuFeatures,
    readonly info: AcquiredDevice['info'],
  ) {
    this.pipelines = new PipelineCache(device);
    // Fallback adapters are CPU implementations, where workgroup barriers cost far more than cache misses.
    this.tuning = {
      matmul: info.isFallbackAdapter ? 'direct' : 'tiled',
      matmulTile: 'auto',
      matmulTiles: features.shaderF16 ? 'f16' : 'f32',
      moePrefill: info.isFallbackAdapter ? 'rows' : 'tiled',
      visionAttention: 'flash',
      attentionTiles: features.shaderF16 ? 'f16' : 'f32',
      subgroups: features.subgroups,
    };
    this.pool = new BufferPool(device, storageUsage());
    this.arenaAlign = device.limits.minUniformBufferOffsetAlignment;
    this.arena = device.createBuffer({
      size: ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'uniform-arena',
    });
    device.lost.then((info) => {
      if (this.destroyed && info.reason === 'destroyed') return;
      this.failure = deviceLostError(info.reason, info.message);
      this.lostInfo = { reason: info.reason, message: info.message };
      for (const cb of this.lostListeners.splice(0)) cb(this.failure);
    });
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.failure ??= new KimiVLError('ShaderCompileError', `WebGPU validation error: ${err.message}`);
    });
  }

  static async create(req: DeviceRequest = {}): Promise<GpuRuntime> {
    const acquired = await acquireDevice(req);
    return new GpuRuntime(acquired.device, acquired.features, acquired.info);
  }

  /** Wraps a device someone else acquired (tests, benchmarks). */
  static fromDevice(acquired: AcquiredDevice): GpuRuntime {
    return new GpuRuntime(acquired.device, acquired.features, acquired.info);
  }

  private ensureAlive(): void {
    if (this.failure) throw this.failure;
    if (this.destroyed)
      throw new KimiVLError('EngineStateError', 'the GPU runtime was destroyed (model unloaded)');
  }

  // ---- memory ---------------------------------------------------------------------------------------

  alloc(shape: readonly number[], dtype: DType = 'f32', label = 'activation'): GpuTensor {
    this.ensureAlive();
    const bytes = storageBytes(shape, dtype);
    return new GpuTensor(shape, dtype, this.pool.acquire(bytes, label), bytes, true);
  }

  free(...ts: GpuTensor[]): void {
    for (const t of ts) {
      if (t.pooled) this.pool.release(t.buffer);
      else if (this.pass)
        this.ownedRetired.push(t.buffer); // recorded work may still use it: after submit
      else t.buffer.destroy();
    }
  }

  /** Uploads activations or ids into a pooled buffer, ordered after everything recorded so far. */
  upload(data: Float32Array | Uint32Array, shape: readonly number[]): GpuTensor {
    const t = this.alloc(shape, data instanceof Uint32Array ? 'u32' : 'f32', 'upload');
    // writeBuffer runs on the queue timeline before unsubmitted work: submit first so a recycled buffer
    // is not overwritten under a dispatch that still reads it.
    if (this.pass) this.flush();
    this.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return t;
  }

  /** A weight in its own buffer (not pooled), bytes as stored. */
  uploadWeight(w: HostWeight, label = 'weight'): GpuTensor {
    this.ensureAlive();
    const bytes = storageBytes(w.shape, w.dtype);
    if (w.bytes.byteLength < bytes && !(w.dtype === 'bf16' || w.dtype === 'f16')) {
      throw new KimiVLError(
        'ShapeError',
        `${label}: ${w.bytes.byteLength} bytes for ${w.dtype} [${w.shape}] (need ${bytes})`,
      );
    }
    const buffer = this.device.createBuffer({
      size: Math.max(bytes, 4),
      usage: storageUsage(),
      mappedAtCreation: true,
      label,
    });
    new Uint8Array(buffer.getMappedRange()).set(w.bytes.subarray(0, bytes));
    buffer.unmap();
    return new GpuTensor(w.shape, w.dtype, buffer, bytes, false);
  }

  /** An owned, zero-filled f32 buffer (KV caches). */
  zeros(shape: readonly number[], label = 'zeros'): GpuTensor {
    this.ensureAlive();
    const bytes = storageBytes(shape, 'f32');
    const buffer = this.device.createBuffer({ size: Math.max(bytes, 4), usage: storageUsage(), label });
    return new GpuTensor(shape, 'f32', buffer, bytes, false);
  }

  // ---- recording --------------------------------------------------------------------------------------

  private bufferId(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(b, id);
    }
    return id;
  }

  dispatch<P extends Record<string, number>>(spec: DispatchSpec<P>): void {
    this.ensureAlive();
    const access = spec.bindings.map((b) => b.access);
    const cached = this.pipelines.get({ ...spec, access });
    if (this.arenaUsed + spec.uniforms.size > ARENA_BYTES) this.flush();
    const offset = this.arenaUsed;
    spec.uniforms.pack(spec.params, this.arenaHost, offset);
    this.arenaUsed = Math.ceil((offset + spec.uniforms.size) / this.arenaAlign) * this.arenaAlign;

    const bgKey = `${cached.key}#${spec.bindings.map((b) => `${this.bufferId(b.tensor.buffer)}:${b.tensor.byteSize}`).join(',')}`;
    let group = this.bindGroups.get(bgKey);
    if (!group) {
      group = this.device.createBindGroup({
        layout: cached.layout,
        entries: [
          { binding: 0, resource: { buffer: this.arena, size: spec.uniforms.size } },
          ...spec.bindings.map((b, i) => ({
            binding: i + 1,
            resource: { buffer: b.tensor.buffer, size: Math.max(4, b.tensor.byteSize) },
          })),
        ],
      });
      // Prefill shapes vary with the prompt; keep the cache bounded (decode steps re-create theirs once).
      if (this.bindGroups.size > 8192) this.bindGroups.clear();
      this.bindGroups.set(bgKey, group);
      this.stats.bindGroupsCreated++;
    }
    const [x, y = 1, z = 1] = spec.workgroups;
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim || x < 1) {
      throw new KimiVLError(
        'GpuLimitError',
        `${spec.op}: dispatch ${x}×${y}×${z} outside 1..${maxDim} per dimension`,
      );
    }
    if (!this.pass) {
      this.encoder = this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(cached.pipeline);
    this.pass.setBindGroup(0, group, [offset]);
    this.pass.dispatchWorkgroups(x, y, z);
    this.stats.dispatches++;
    this.stats.weightBytes += spec.weightBytes ?? 0;
    if (this.debug >= 3) console.debug(`[kimi-vl] ${spec.op} ${x}×${y}×${z}`, spec.params);
  }

  /** Ends the pass and submits it (with the uniform arena contents) as one command buffer. */
  flush(extra?: (encoder: GPUCommandEncoder) => void): void {
    this.ensureAlive();
    if (!this.pass && !extra) return;
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    this.pass?.end();
    extra?.(this.encoder);
    if (this.arenaUsed > 0)
      this.device.queue.writeBuffer(this.arena, 0, this.arenaHost.buffer, 0, this.arenaUsed);
    this.device.queue.submit([this.encoder.finish()]);
    this.stats.submits++;
    this.pool.destroyRetired();
    for (const b of this.ownedRetired.splice(0)) b.destroy();
    this.encoder = null;
    this.pass = null;
    this.arenaUsed = 0;
  }

  /** Reads a tensor's bytes back (the only GPU→CPU path). */
  async readBytes(t: GpuTensor): Promise<ArrayBuffer> {
    this.ensureAlive();
    const size = Math.max(4, Math.ceil(t.byteSize / 4) * 4);
    const staging = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.flush((enc) => enc.copyBufferToBuffer(t.buffer, 0, staging, 0, size));
    this.stats.readbacks++;
    try {
      await this.pipelines.checkPending();
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      // On a lost device mapAsync rejects with an AbortError before device.lost has settled: name it.
      throw (await this.deviceLoss(e)) ?? e;
    }
    this.ensureAlive();
    const out = staging.getMappedRange().slice(0, t.byteSize);
    staging.destroy();
    return out;
  }

  async read(t: GpuTensor): Promise<Float32Array> {
    return new Float32Array(await this.readBytes(t));
  }

  async readU32(t: GpuTensor): Promise<Uint32Array> {
    return new Uint32Array(await this.readBytes(t));
  }

  /** Waits for all submitted work (benchmarks); surfaces compile errors and device loss. */
  async sync(): Promise<void> {
    this.flush();
    try {
      await this.pipelines.checkPending();
      await this.device.queue.onSubmittedWorkDone();
    } catch (e) {
      throw (await this.deviceLoss(e)) ?? e;
    }
    this.ensureAlive();
  }

  /** True once the device is lost (not by destroy()). */
  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  /** Calls `cb` once when the device is lost (at once if it already is); not after destroy(). */
  onLost(cb: (e: KimiVLError) => void): void {
    if (this.failure && this.lostInfo) cb(this.failure);
    else this.lostListeners.push(cb);
  }

  /**
   * The DeviceLostError behind a failed GPU call, or null when the device is fine. A failure caused by
   * a loss (mapAsync's AbortError, a pipeline that cannot be created) can arrive before device.lost
   * settles, so this waits briefly for it; an error that is already a DeviceLostError is returned as is.
   */
  async deviceLoss(cause: unknown, graceMs = 1000): Promise<KimiVLError | null> {
    if (cause instanceof KimiVLError && cause.name === 'DeviceLostError') return cause;
    if (this.destroyed && !this.lostInfo) return null;
    if (!this.lostInfo) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.device.lost,
        new Promise((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
      await Promise.resolve(); // let the lost handler above record the reason
    }
    if (!this.lostInfo) return null;
    const msg = cause instanceof Error ? ` (while: ${cause.message})` : '';
    return new KimiVLError(
      'DeviceLostError',
      `${deviceLostError(this.lostInfo.reason, this.lostInfo.message).message}${msg}`,
      { cause },
    );
  }

  resetStats(): void {
    Object.assign(this.stats, {
      dispatches: 0,
      submits: 0,
      readbacks: 0,
      weightBytes: 0,
      bindGroupsCreated: 0,
    });
  }

  /** Frees every GPU resource; the runtime is unusable afterwards. */
  destroy(): void {
    this.destroyed = true;
    this.bindGroups.clear();
    this.pool.destroy();
    this.arena.destroy();
    this.device.destroy();
  }
}
