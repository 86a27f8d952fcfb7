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
  /** Access of storage bindings 1..n, in order (or given as the bindings' own `access`). */
  access?: readonly Access[];
  bindings?: readonly { access: Access }[];
}

interface Known {
  source: string;
  uniforms: UniformLayout;
  defines: Defines | undefined;
  overrides: Readonly<Record<string, number>> | undefined;
  access: readonly Access[];
  entry: CachedPipeline;
}

function accessOf(spec: PipelineSpec): readonly Access[] {
  return spec.access ?? spec.bindings?.map((b) => b.access) ?? [];
}

/** Same keys and values (both absent counts as empty). */
function sameRecord(a: Readonly<Record<string, unknown>> | undefined, b: typeof a): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    n++;
    if (!b || a[k] !== b[k]) return false;
  }
  for (const _ in b) n--;
  return n === 0;
}

function sameAccess(a: readonly Access[], spec: PipelineSpec): boolean {
  const list = spec.access ?? spec.bindings;
  const n = list?.length ?? 0;
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const x = list![i]!;
    if (a[i] !== (typeof x === 'string' ? x : x.access)) return false;
  }
  return true;
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
  /** The per-dispatch lookup: by op, then by identity/shallow equality of the spec's parts (no strings). */
  private readonly known = new Map<string, Known[]>();
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
    return `${spec.op}|${defs}|${ovr}|${spec.uniforms.name}|${accessOf(spec).join('')}`;
  }

  get size(): number {
    return this.cache.size;
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  get(spec: PipelineSpec): CachedPipeline {
    const list = this.known.get(spec.op);
    if (list) {
      for (const k of list) {
        if (
          k.source === spec.source &&
          k.uniforms === spec.uniforms &&
          sameRecord(k.defines, spec.defines) &&
          sameRecord(k.overrides, spec.overrides) &&
          sameAccess(k.access, spec)
        )
          return k.entry;
      }
    }
    const entry = this.create(spec);
    const known: Known = {
      source: spec.source,
      uniforms: spec.uniforms,
      defines: spec.defines && { ...spec.defines },
      overrides: spec.overrides && { ...spec.overrides },
      access: [...accessOf(spec)],
      entry,
    };
    if (list) list.push(known);
    else this.known.set(spec.op, [known]);
    return entry;
  }

  private create(spec: PipelineSpec): CachedPipeline {
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
      ...accessOf(spec).map((a, i) => ({
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
