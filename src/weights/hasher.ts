// A streaming SHA-256 by the fastest means the page allows. WebCrypto's digest() takes one whole
// buffer (no streaming), so a multi-gigabyte shard cannot go through it; hash-wasm streams at about
// native speed (≥ 1 GB/s against our JS's ~95 MB/s) but needs WebAssembly, which a page's CSP may
// forbid (it needs 'wasm-unsafe-eval'). So: feature-detect once, use wasm when it instantiates and
// hashes a known vector right, else fall back to the JS implementation in sha256.ts.
import { createSHA256 } from 'hash-wasm';
import { Sha256 } from './sha256.ts';

export interface StreamHasher {
  readonly kind: 'wasm' | 'js';
  update(bytes: Uint8Array): void;
  /** Lower-case hex digest of everything since the last reset; the hasher is reset afterwards. */
  hex(): string;
  reset(): void;
}

class JsHasher implements StreamHasher {
  readonly kind = 'js';
  private h = new Sha256();
  update(bytes: Uint8Array): void {
    this.h.update(bytes);
  }
  hex(): string {
    const out = this.h.hex();
    this.h = new Sha256();
    return out;
  }
  reset(): void {
    this.h = new Sha256();
  }
}

type WasmSha = Awaited<ReturnType<typeof createSHA256>>;

class WasmHasher implements StreamHasher {
  readonly kind = 'wasm';
  constructor(private readonly h: WasmSha) {
    h.init();
  }
  update(bytes: Uint8Array): void {
    this.h.update(bytes);
  }
  hex(): string {
    const out = this.h.digest('hex');
    this.h.init();
    return out;
  }
  reset(): void {
    this.h.init();
  }
}

const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
let preference: 'auto' | 'js' = 'auto';
let wasmWorks: Promise<boolean> | null = null;

/** Forces the JS implementation (tests of the fallback; pages that want no wasm at all). */
export function setHasherPreference(p: 'auto' | 'js'): void {
  preference = p;
}

async function probeWasm(): Promise<boolean> {
  try {
    if (typeof WebAssembly === 'undefined') return false;
    const h = await createSHA256();
    return h.init().update(new TextEncoder().encode('abc')).digest('hex') === ABC_SHA256;
  } catch {
    return false; // CSP without 'wasm-unsafe-eval' (CompileError / EvalError), or no WebAssembly
  }
}

/** A fresh streaming hasher: wasm where the page allows it, else JS. */
export async function createHasher(): Promise<StreamHasher> {
  if (preference === 'js') return new JsHasher();
  wasmWorks ??= probeWasm();
  if (await wasmWorks) {
    try {
      return new WasmHasher(await createSHA256());
    } catch {
      // instantiation can still fail (memory pressure): the JS hasher is always there
    }
  }
  return new JsHasher();
}

/** The JS hasher, for callers that must stay synchronous (small files). */
export function createJsHasher(): StreamHasher {
  return new JsHasher();
}

/** Which implementation createHasher gives in this context (diagnostics, tests). */
export async function hasherKind(): Promise<StreamHasher['kind']> {
  return (await createHasher()).kind;
}
