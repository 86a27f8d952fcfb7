// Compute pipelines cached by an explicit key (op + defines + overrides + binding signature). Creation
// runs inside a validation error scope; a failure surfaces as ShaderCompileError carrying the compiler's
// messages and the numbered source, at the next flush/read (pipeline creation itself stays synchronous so
// ops can be recorded without awaiting).
import { KimiVLError } from '../errors.ts';
import { resolveShaderInclude } from './shader_library.ts';
import type { UniformLayout } from './uniforms.ts';
import { type Defines, preprocessWgsl } from './wgsl_preprocess.ts';

export type Access = 'read' | 'rw';

export interface PipelineSpec {
  op: string;
  source: string;
  defines?: Defines;
  overrides?: Readonly<Record<string, number>>;
  uniforms: UniformLayout;
  /** Access of storage bindings 1..n, in order. */
  access: readonly Access[];
}

export interface CachedPipeline {
  key: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

function numbered(source: string): string {
  return source
    .split('\n')
    .map((l, i) => `${String(i + 1).padStart(4)}: ${l}`)
    .join('\n');
}

export class PipelineCache {
  private readonly cache = new Map<string, CachedPipeline>();
  private readonly pending: Promise<void>[] = [];
  /** Level ≥ 2 logs each new pipeline with its WGSL. */
  debug = 0;

  constructor(private readonly device: GPUDevice) {}

  static key(spec: PipelineSpec): string {
    const defs = Object.entries(spec.defines ?? {})
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const ovr = Object.entries(spec.overrides ?? {})
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return `${spec.op}|${defs}|${ovr}|${spec.uniforms.name}|${spec.access.join('')}`;
  }

  get size(): number {
    return this.cache.size;
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  get(spec: PipelineSpec): CachedPipeline {
    const key = PipelineCache.key(spec);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const body = preprocessWgsl(spec.source, spec.defines ?? {}, resolveShaderInclude);
    // `enable` directives must precede every declaration, including the injected uniform struct.
    const enables = body.split('\n').filter((l) => /^\s*enable\s/.test(l));
    const rest = body.split('\n').filter((l) => !/^\s*enable\s/.test(l));
    const code = [...enables, spec.uniforms.wgsl, ...rest].join('\n');
    if (this.debug >= 2) console.debug(`[kimi-vl] pipeline ${key}\n${code}`);
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ...spec.access.map((a, i) => ({
        binding: i + 1,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: a === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
      })),
    ];
    const d = this.device;
    d.pushErrorScope('validation');
    const module = d.createShaderModule({ code, label: spec.op });
    const layout = d.createBindGroupLayout({ entries, label: spec.op });
    const pipeline = d.createComputePipeline({
      label: key,
      layout: d.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: {
        module,
        entryPoint: 'main',
        constants: spec.overrides as Record<string, number> | undefined,
      },
    });
    const check = d.popErrorScope().then(async (err) => {
      if (!err) return;
      const info = await module.getCompilationInfo();
      const msgs = info.messages
        .map((m) => `${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}`)
        .join('\n');
      throw new KimiVLError(
        'ShaderCompileError',
        `WGSL for "${spec.op}" failed: ${err.message}\n${msgs}\n--- source ---\n${numbered(code)}`,
      );
    });
    check.catch(() => {}); // observed via checkPending(); avoid an unhandled rejection meanwhile
    this.pending.push(check);
    const entry = { key, pipeline, layout };
    this.cache.set(key, entry);
    return entry;
  }

  /** Throws the first compile failure since the last call. */
  async checkPending(): Promise<void> {
    const all = this.pending.splice(0);
    await Promise.all(all);
  }
}
