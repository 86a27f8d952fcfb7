// Runs one golden case through the engine's model code on any Kernels backend and checks every
// expected tensor: image file → decode → preprocess → MoonViT → projector → LM prefill → 8 greedy steps.

import type { ImageProcessorConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { Kernels } from '../kernels/types.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import type { Tensor } from '../tensor/types.ts';
import { decodePng } from '../vision/png.ts';
import { preprocessImages } from '../vision/preprocess.ts';
import { assembleWeights } from '../weights/assemble.ts';
import { type CheckpointFiles, openCheckpoint } from '../weights/checkpoint.ts';
import { f32FromBytes, type GoldenCase, joinPath, parseCase } from './case.ts';
import { argmax, checkExact, checkTensor, type TensorCheck } from './compare.ts';

export interface GoldenIO {
  readBytes(path: string): Promise<Uint8Array>;
  checkpointFiles(dir: string): CheckpointFiles;
}

export interface CaseReport {
  name: string;
  pass: boolean;
  checks: TensorCheck[];
  newTokens: number[];
  seconds: number;
}

interface LoadedModel {
  model: KimiVLModel;
  preprocessor: ImageProcessorConfig;
}

export class GoldenRunner {
  private readonly models = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly k: Kernels,
    private readonly io: GoldenIO,
    private readonly quant: 'none' | 'q8' | 'q4' = 'none',
  ) {}

  private loadModel(dir: string): Promise<LoadedModel> {
    let m = this.models.get(dir);
    if (!m) {
      m = (async () => {
        const ck = await openCheckpoint(this.io.checkpointFiles(dir));
        if (!ck.preprocessor)
          throw new KimiVLError('CheckpointError', `${dir} has no preprocessor_config.json`);
        const host = new Map();
        for await (const [name, w] of assembleWeights(ck.config, ck.source, { quant: this.quant }))
          host.set(name, w);
        return { model: KimiVLModel.load(this.k, ck.config, host), preprocessor: ck.preprocessor };
      })();
      this.models.set(dir, m);
    }
    return m;
  }

  private async expected(c: GoldenCase, file: string): Promise<Float32Array> {
    return f32FromBytes(await this.io.readBytes(joinPath(c.dir, file)));
  }

  /** `modelDir` replaces the case's model folder (e.g. a `kimi-vl convert` output of it). */
  async run(caseDir: string, modelDir?: string): Promise<CaseReport> {
    const name = caseDir.split('/').pop()!;
    const t0 = performance.now();
    const text = new TextDecoder().decode(await this.io.readBytes(joinPath(caseDir, 'case.json')));
    const c = parseCase(name, caseDir, JSON.parse(text));
    const { model, preprocessor } = await this.loadModel(modelDir ?? c.modelDir);
    const k = this.k;
    const checks: TensorCheck[] = [];
    const tol = c.tolerance.floatMaxRel;

    let features: Tensor | null = null;
    if (c.images.length) {
      const images = await Promise.all(c.images.map(async (p) => decodePng(await this.io.readBytes(p))));
      const batch = preprocessImages(images, preprocessor);
      checks.push(
        checkExact(
          'image_grid_hws',
          batch.grids.flatMap((g) => [g.h, g.w]),
          c.grids.flatMap((g) => [g.h, g.w]),
        ),
      );
      checks.push(checkExact('placeholder_counts', batch.nTokens, c.placeholderCounts));
      if (c.expected.pixelValues) {
        const want = await this.expected(c, c.expected.pixelValues.file);
        checks.push(
          checkTensor('pixel_values', batch.pixelValues, want, c.tolerance.pixelValuesMaxAbs, true),
        );
      }
      const patch = 3 * preprocessor.patchSize * preprocessor.patchSize;
      const px = k.upload(batch.pixelValues, [batch.pixelValues.length / patch, patch]); // [L, 3·p·p]
      const enc = model.encodeImages(k, px, batch.grids);
      k.release(px);
      if (c.expected.visionTowerOut) {
        const want = await this.expected(c, c.expected.visionTowerOut.file);
        checks.push(checkTensor('vision_tower_out', await k.read(enc.visionOut), want, tol));
      }
      k.release(enc.visionOut);
      if (c.expected.imageFeatures) {
        const want = await this.expected(c, c.expected.imageFeatures.file);
        checks.push(checkTensor('image_features', await k.read(enc.features), want, tol));
      }
      features = enc.features;
    }

    const T = c.inputIds.length;
    const steps = c.expected.newTokens.length;
    const cache = model.newCache(k, T + steps + 1);
    const logitsT = model.prefill(k, c.inputIds, features, cache, false); // [T, V]
    if (features) k.release(features);
    const logits = await k.read(logitsT);
    k.release(logitsT);
    const V = logits.length / T;
    if (c.expected.logits)
      checks.push(checkTensor('logits', logits, await this.expected(c, c.expected.logits.file), tol));

    const tokens = [argmax(logits, (T - 1) * V, V)];
    const stepLogits = new Float32Array(steps * V);
    for (let i = 0; i < steps; i++) {
      // Greedy decoding feeds the expected token so one wrong step cannot cascade into the later checks.
      const feed = c.expected.newTokens[i] ?? tokens[i]!;
      const l = model.step(k, feed, cache); // [1, V]
      const row = await k.read(l);
      k.release(l);
      stepLogits.set(row, i * V);
      if (i + 1 < steps) tokens.push(argmax(row));
    }
    if (c.expected.stepLogits) {
      checks.push(
        checkTensor('step_logits', stepLogits, await this.expected(c, c.expected.stepLogits.file), tol),
      );
    }
    checks.push(checkExact('new_tokens', tokens, c.expected.newTokens));
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
