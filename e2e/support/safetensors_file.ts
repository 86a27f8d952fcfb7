// Test checkpoints re-cut from a real one: the bytes of one .safetensors file holding `names` of a
// checkpoint's tensors (same names, dtypes, shapes and data), in that order.
import type { TensorSource } from '../../src/weights/checkpoint.ts';
import { encodeSafetensorsHeader, type SafetensorsEntry } from '../../src/weights/safetensors.ts';

export async function safetensorsFileOf(source: TensorSource, names: readonly string[]): Promise<Uint8Array> {
  const entries: SafetensorsEntry[] = names.map((name) => {
    const t = source.info(name);
    return { name, dtype: t.dtype, shape: t.shape, bytes: t.bytes };
  });
  const { header, fileSize } = encodeSafetensorsHeader(entries, { format: 'pt' });
  const out = new Uint8Array(fileSize);
  out.set(header);
  let o = header.byteLength;
  for (const name of names) {
    const bytes = await source.read(name);
    out.set(bytes, o);
    o += bytes.byteLength;
  }
  return out;
}
