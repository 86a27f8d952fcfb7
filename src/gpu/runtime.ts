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
import { BindGroupCache } from './bind_groups.ts';
import { BufferPool } from './buffer_pool.ts';
import { type AcquiredDevice, acquireDevice, type DeviceRequest, type GpuFeatures } from './device.ts';
import { deviceLostError } from './device_loss.ts';
import { PipelineCache } from './pipelines.ts';
import { TapeRecorder } from './replay/recorder.ts';
import type { EncodedDispatch, StepValues, Tape, TapeEntry } from './replay/tape.ts';
import type { DispatchSpec, RuntimeOptions, RuntimeStats, Tuning } from './runtime_types.ts';
import { zeroStats } from './runtime_types.ts';
import { StagingRing } from './staging_ring.ts';
import { GpuTensor, storageBytes } from './tensor.ts';
import { UniformArena } from './uniform_arena.ts';
import type { UniformLayout } from './uniforms.ts';

export type { Binding, DispatchSpec, RuntimeOptions, RuntimeStats, Tuning } from './runtime_types.ts';
export { deviceLostError };

const ARENA_BYTES = 4 << 20;

// A function, not a constant: this module is imported by Node-side test helpers, where GPUBufferUsage is absent.
const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class GpuRuntime {
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  readonly tuning: Tuning;
  readonly stats: RuntimeStats = zeroStats();
  /** False on a counting device: uploads carry no bytes. */
  readonly executes: boolean;
  /** Whether recorded decode steps may be replayed (RuntimeOptions.replay). */
  replay: boolean;
  private debugLevel = 0;

  /** 0 quiet, 1 timings (callers), 2 + every new pipeline with its WGSL, 3 + a trace line per dispatch. */
  get debug(): number {
    return this.debugLevel;
  }
  set debug(level: number) {
    this.debugLevel = level;
    this.pipelines.debug = level;
  }

  private readonly arena: UniformArena;
  private readonly bindGroups: BindGroupCache;
  private readonly staging: StagingRing;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private failure: KimiVLError | null = null;
  private destroyed = false;
  /** Owned (unpooled) buffers freed while the pass that uses them is still unsubmitted. */
  private readonly ownedRetired: GPUBuffer[] = [];
  private lostInfo: { reason: string; message: string } | null = null;
  private readonly lostListeners: Array<(e: KimiVLError) => void> = [];
  /** The tape being recorded while a replayable step walks (src/gpu/replay/). */
  private recorder: TapeRecorder | null = null;

  private constructor(
    readonly device: GPUDevice,
    readonly features: GpuFeatures,
    readonly info: AcquiredDevice['info'],
    opts: RuntimeOptions = {},
  ) {
    this.executes = opts.executes ?? true;
    this.replay = opts.replay ?? true;
    this.pipelines = new PipelineCache(device);
    // Fallback adapters are CPU implementations, where workgroup barriers cost far more than cache misses.
    this.tuning = {
      matmul: info.isFallbackAdapter ? 'auto' : 'tiled',
      matmulTile: 'auto',
      matmulLanes: 'auto',
      matmulTiles: features.shaderF16 ? 'f16' : 'f32',
      moePrefill: info.isFallbackAdapter ? 'auto' : 'tiled',
      visionAttention: 'flash',
      attentionTiles: features.shaderF16 ? 'f16' : 'f32',
      subgroups: features.subgroups,
      // Many workgroups over a 163,840-entry vocabulary on a GPU; one on a CPU adapter (no idle cores).
      sampler: info.isFallbackAdapter ? 'single' : 'split',
    };
    this.pool = new BufferPool(device, storageUsage());
    this.arena = new UniformArena(device, ARENA_BYTES, device.limits.minUniformBufferOffsetAlignment);
    this.bindGroups = new BindGroupCache(device);
    this.staging = new StagingRing(device);
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
  static fromDevice(acquired: AcquiredDevice, opts: RuntimeOptions = {}): GpuRuntime {
    return new GpuRuntime(acquired.device, acquired.features, acquired.info, opts);
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
    const buffer = this.pool.acquire(bytes, label);
    this.recorder?.acquired(buffer);
    return new GpuTensor(shape, dtype, buffer, bytes, true);
  }

  free(...ts: GpuTensor[]): void {
    for (const t of ts) {
      if (t.pooled) {
        this.recorder?.released(t.buffer);
        this.pool.release(t.buffer);
      } else if (this.pass)
        this.ownedRetired.push(t.buffer); // recorded work may still use it: after submit
      else t.buffer.destroy();
    }
  }

  /** Uploads activations or ids into a pooled buffer, ordered after everything recorded so far. */
  upload(data: Float32Array | Uint32Array, shape: readonly number[]): GpuTensor {
    this.recorder?.refuse('it uploads host data');
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
    if (!this.executes) return this.zerosOf(w.shape, w.dtype, label);
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

  private zerosOf(shape: readonly number[], dtype: DType, label: string): GpuTensor {
    const bytes = storageBytes(shape, dtype);
    const buffer = this.device.createBuffer({ size: Math.max(bytes, 4), usage: storageUsage(), label });
    return new GpuTensor(shape, dtype, buffer, bytes, false);
  }

  /** An owned, zero-filled f32 buffer (KV caches). */
  zeros(shape: readonly number[], label = 'zeros'): GpuTensor {
    this.ensureAlive();
    return this.zerosOf(shape, 'f32', label);
  }

  // ---- recording --------------------------------------------------------------------------------------

  dispatch<P extends Record<string, number>>(spec: DispatchSpec<P>): void {
    this.ensureAlive();
    const cached = this.pipelines.get(spec);
    let offset = this.arena.place(spec.uniforms, spec.params);
    if (offset === null) {
      // full: submit what points into the arena, then start it over (queue order keeps that pass's blocks)
      this.flush();
      this.arena.reset();
      offset = this.arena.place(spec.uniforms, spec.params)!;
    }
    const group = this.bindGroups.get(
      cached.layout,
      { buffer: this.arena.buffer, size: spec.uniforms.size },
      spec.bindings.map((b) => ({ buffer: b.tensor.buffer, size: Math.max(4, b.tensor.byteSize) })),
    );
    const [x, y = 1, z = 1] = spec.workgroups;
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim || x < 1) {
      throw new KimiVLError(
        'GpuLimitError',
        `${spec.op}: dispatch ${x}×${y}×${z} outside 1..${maxDim} per dimension`,
      );
    }
    const weightBytes = spec.weightBytes ?? 0;
    const entry: TapeEntry = {
      op: spec.op,
      pipeline: cached.pipeline,
      group,
      offset,
      workgroups: [x, y, z],
      layout: spec.uniforms,
      params: spec.params,
      ...(spec.perStep ? { perStep: spec.perStep } : {}),
      weightBytes,
      bytesRead: spec.bytesRead ?? weightBytes,
    };
    this.encodeDispatch(entry, offset);
    this.stats.bindGroupsCreated = this.bindGroups.created;
    this.recorder?.dispatched({ ...entry, params: { ...spec.params } }, spec.bindings);
    if (this.debug >= 3) console.debug(`[kimi-vl] ${spec.op} ${x}×${y}×${z}`, spec.params);
  }

  /** Encodes one recorded dispatch with its uniform block at `offset` (dispatch(), and tape replay). */
  encodeDispatch(d: EncodedDispatch, offset: number): void {
    this.ensureAlive();
    if (!this.pass) {
      this.encoder = this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    const [x, y, z] = d.workgroups;
    this.pass.setPipeline(d.pipeline);
    this.pass.setBindGroup(0, d.group, [offset]);
    this.pass.dispatchWorkgroups(x, y, z);
    this.stats.dispatches++;
    this.stats.weightBytes += d.weightBytes;
    this.stats.bytesRead += d.bytesRead;
  }

  // ---- replay (src/gpu/replay/) -------------------------------------------------------------------

  /** Starts recording the dispatches of a walk at `at` (no nesting: false while one records). */
  startRecording(at: StepValues): boolean {
    if (this.recorder) return false;
    this.recorder = new TapeRecorder(at, this.arena.epoch);
    return true;
  }

  /** Stops recording; the tape of the walk that returned `out` (null: it threw), or why there is none. */
  stopRecording(out: GpuTensor | null, inputs: ReadonlySet<GPUBuffer>): Tape | string {
    const rec = this.recorder;
    this.recorder = null;
    if (!rec) return 'nothing was recording';
    return out ? rec.finish(out, this.arena.epoch, inputs) : 'the walk failed';
  }

  /** The arena's epoch (recorded offsets are valid within one) and a block for params (null: full). */
  get arenaEpoch(): number {
    return this.arena.epoch;
  }
  placeUniforms(layout: UniformLayout, params: Readonly<Record<string, number>>): number | null {
    return this.arena.place(layout, params);
  }

  /** Ends the pass and submits it (with the uniform arena contents) as one command buffer. */
  flush(extra?: (encoder: GPUCommandEncoder) => void): void {
    this.ensureAlive();
    if (!this.pass && !extra) return;
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    this.pass?.end();
    extra?.(this.encoder);
    this.stats.uniformBytes += this.arena.upload(this.device.queue);
    this.device.queue.submit([this.encoder.finish()]);
    this.stats.submits++;
    this.pool.destroyRetired();
    for (const b of this.ownedRetired.splice(0)) b.destroy();
    this.encoder = null;
    this.pass = null;
  }

  /** Reads a tensor's bytes back (the only GPU→CPU path). */
  async readBytes(t: GpuTensor): Promise<ArrayBuffer> {
    return this.readLater(t)();
  }

  /**
   * Submits a copy of the tensor's bytes into a staging buffer now and returns the function that awaits
   * them. Recording can go on meanwhile (one-step-late readback: the next step is recorded and submitted
   * before this one's id is waited for).
   */
  readLater(t: GpuTensor): () => Promise<ArrayBuffer> {
    this.ensureAlive();
    this.recorder?.refuse('it reads back');
    const size = Math.max(4, Math.ceil(t.byteSize / 4) * 4);
    const staging = this.staging.acquire(size);
    this.flush((enc) => enc.copyBufferToBuffer(t.buffer, 0, staging, 0, size));
    this.stats.readbacks++;
    const mapped = (async () => {
      await this.pipelines.checkPending();
      await staging.mapAsync(GPUMapMode.READ, 0, staging.size);
    })();
    mapped.catch(() => {}); // observed by the caller's await; avoid an unhandled rejection meanwhile
    return async () => {
      try {
        await mapped;
      } catch (e) {
        staging.destroy();
        // On a lost device mapAsync rejects with an AbortError before device.lost has settled: name it.
        throw (await this.deviceLoss(e)) ?? e;
      }
      this.ensureAlive();
      const out = staging.getMappedRange(0, staging.size).slice(0, t.byteSize);
      staging.unmap();
      this.staging.release(staging);
      return out;
    };
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
    Object.assign(this.stats, zeroStats());
  }

  /** Frees every GPU resource; the runtime is unusable afterwards. */
  destroy(): void {
    this.destroyed = true;
    this.bindGroups.clear();
    this.pool.destroy();
    this.staging.destroy();
    this.arena.destroy();
    this.device.destroy();
  }
}
