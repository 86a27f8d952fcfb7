// Runs one golden case through the engine's model code on any Kernels backend and checks every
// expected tensor: image file → decode → preprocess → MoonViT → projector → LM prefill → 8 greedy steps.

import type { ImageProcessorConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { Kernels } from '../kernels/types.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import type { Tensor } from '../tensor/types.ts';
import { decodePng } from '../vision/png.ts';
import { preprocessImages } from '../vision/preprocess.ts';
import type { GoldenCase, GoldenTensorRef } from './case.ts';
import { chunkedPrefillLogits, prefillChunkRows } from './chunked_prefill.ts';
import { argmax, checkExact, checkTensor, type TensorCheck } from './compare.ts';
import { preprocessChecks } from './pixels.ts';
import { type GoldenIO, loadGoldenModel, readCase, readTensor } from './reader.ts';

export interface CaseReport {
  name: string;
  pass: boolean;
  checks: TensorCheck[];
  newTokens: number[];
  seconds: number;
}

/**
 * What a run computed, for the tensors the case expects: filled when passed to run() (derive.ts makes
 * cases of a converted model from the reference backend's outputs). A recording run decodes freely (feeds
 * its own tokens), so the recorded steps are the model's own greedy continuation.
 */
export interface GoldenOutputs {
  visionTowerOut?: Float32Array;
  imageFeatures?: Float32Array;
  logits?: Float32Array;
  stepLogits?: Float32Array;
  newTokens?: number[];
}

interface LoadedModel {
  model: KimiVLModel;
  preprocessor: ImageProcessorConfig;
}

/** Chunks read back and joined in order. */
async function readChunks(k: Kernels, chunks: Tensor[]): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (const t of chunks) parts.push(await k.read(t));
  k.release(...chunks);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export class GoldenRunner {
  private readonly models = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly k: Kernels,
    private readonly io: GoldenIO,
    private readonly quant: 'none' | 'q8' | 'q4' = 'none',
    /**
     * The buffer limit the kernels run under (kimi-vl golden --max-binding-bytes): images are encoded one
     * at a time in row chunks and the prompt runs in row chunks, so no activation passes it.
     */
    private readonly maxBindingBytes?: number,
  ) {}

  private loadModel(dir: string): Promise<LoadedModel> {
    let m = this.models.get(dir);
    if (!m) {
      m = (async () => {
        const { config, preprocessor, host } = await loadGoldenModel(this.io, dir, { quant: this.quant });
        if (!preprocessor) throw new KimiVLError('CheckpointError', `${dir} has no preprocessor_config.json`);
        return { model: KimiVLModel.load(this.k, config, host), preprocessor };
      })();
      this.models.set(dir, m);
    }
    return m;
  }

  private expected(c: GoldenCase, ref: GoldenTensorRef): Promise<Float32Array> {
    return readTensor(this.io, c, ref);
  }

  /** `modelDir` replaces the case's model folder (e.g. a `kimi-vl convert` output of it). */
  async run(caseDir: string, modelDir?: string, record?: GoldenOutputs): Promise<CaseReport> {
    const t0 = performance.now();
    const c = await readCase(this.io, caseDir);
    const { model, preprocessor } = await this.loadModel(modelDir ?? c.modelDir);
    const k = this.k;
    const checks: TensorCheck[] = [];
    const tol = c.tolerance.floatMaxRel;

    let features: Tensor | null = null;
    let hostFeatures: Float32Array | null = null; // the chunked path's features, uploaded per prompt chunk
    if (c.images.length) {
      const images = await Promise.all(c.images.map(async (p) => decodePng(await this.io.readBytes(p))));
      const batch = preprocessImages(images, preprocessor);
      const wantPixels = c.expected.pixelValues ? await this.expected(c, c.expected.pixelValues) : null;
      checks.push(...preprocessChecks(c, images, batch, wantPixels));
      if (this.maxBindingBytes) {
        const enc = model.encodeImagesChunked(k, batch, this.maxBindingBytes);
        const visionOut = await readChunks(k, enc.visionOut);
        hostFeatures = await readChunks(k, enc.features);
        if (record) Object.assign(record, { visionTowerOut: visionOut, imageFeatures: hostFeatures });
        if (c.expected.visionTowerOut) {
          const want = await this.expected(c, c.expected.visionTowerOut);
          checks.push(checkTensor('vision_tower_out', visionOut, want, tol));
        }
        if (c.expected.imageFeatures) {
          const want = await this.expected(c, c.expected.imageFeatures);
          checks.push(checkTensor('image_features', hostFeatures, want, tol));
        }
      } else {
        const px = k.upload(batch.pixelValues, batch.shape); // [L, 3·p·p]
        const enc = model.encodeImages(k, px, batch.grids);
        k.release(px);
        if (c.expected.visionTowerOut) {
          const want = await this.expected(c, c.expected.visionTowerOut);
          const got = await k.read(enc.visionOut);
          checks.push(checkTensor('vision_tower_out', got, want, tol));
          if (record) record.visionTowerOut = got;
        }
        k.release(enc.visionOut);
        if (c.expected.imageFeatures) {
          const want = await this.expected(c, c.expected.imageFeatures);
          const got = await k.read(enc.features);
          checks.push(checkTensor('image_features', got, want, tol));
          if (record) record.imageFeatures = got;
        }
        features = enc.features;
      }
    }

    const T = c.inputIds.length;
    const steps = c.expected.newTokens.length;
    const cache = model.newCache(k, T + steps + 1);
    let logits: Float32Array;
    if (this.maxBindingBytes) {
      const rows = prefillChunkRows(model.cfg, this.maxBindingBytes);
      logits = await chunkedPrefillLogits(k, model, c.inputIds, hostFeatures, cache, rows);
    } else {
      const logitsT = model.prefill(k, c.inputIds, features, cache, false); // [T, V]
      if (features) k.release(features);
      logits = await k.read(logitsT);
      k.release(logitsT);
    }
    const V = logits.length / T;
    if (c.expected.logits)
      checks.push(checkTensor('logits', logits, await this.expected(c, c.expected.logits), tol));

    const tokens = [argmax(logits, (T - 1) * V, V)];
    const stepLogits = new Float32Array(steps * V);
    for (let i = 0; i < steps; i++) {
      // Greedy decoding feeds the expected token so one wrong step cannot cascade into the later checks
      // (a recording run feeds its own).
      const feed = (record ? undefined : c.expected.newTokens[i]) ?? tokens[i]!;
      const l = model.step(k, [feed], cache); // [1, V]
      const row = await k.read(l);
      k.release(l);
      stepLogits.set(row, i * V);
      if (i + 1 < steps) tokens.push(argmax(row));
    }
    if (c.expected.stepLogits) {
      checks.push(checkTensor('step_logits', stepLogits, await this.expected(c, c.expected.stepLogits), tol));
    }
    checks.push(checkExact('new_tokens', tokens, c.expected.newTokens));
    if (record) Object.assign(record, { logits, stepLogits, newTokens: tokens });
    cache.release(k);
    return {
      name: c.name,
      pass: checks.every((x) => x.pass),
      checks,
      newTokens: tokens,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  release(): Promise<void> {
    return Promise.all([...this.models.values()].map(async (m) => (await m).model.release(this.k))).then(
      () => {},
    );
  }
}
