// Uniform structs defined once, by field name. The same definition emits the WGSL struct the shader
// reads and packs the values, so a field can never be filled by position into the wrong slot.
import { KimiVLError } from '../errors.ts';

export type UniformFieldType = 'u32' | 'i32' | 'f32';

export interface UniformLayout<
  F extends Record<string, UniformFieldType> = Record<string, UniformFieldType>,
> {
  readonly name: string;
  readonly fields: F;
  /** Bytes, padded to 16 as WGSL requires for uniform structs. */
  readonly size: number;
  /** `struct <name> { ... }` plus the binding-0 declaration `u`. */
  readonly wgsl: string;
  pack(values: { [K in keyof F]: number }, into?: DataView, offset?: number): Uint8Array;
}

export function defineUniforms<F extends Record<string, UniformFieldType>>(
  name: string,
  fields: F,
): UniformLayout<F> {
  const names = Object.keys(fields);
  const size = Math.max(16, Math.ceil((names.length * 4) / 16) * 16);
  const wgsl =
    `struct ${name} {\n${names.map((n) => `  ${n}: ${fields[n]},`).join('\n')}\n};\n` +
    `@group(0) @binding(0) var<uniform> u: ${name};\n`;
  return {
    name,
    fields,
    size,
    wgsl,
    pack(values, into, offset = 0) {
      const view = into ?? new DataView(new ArrayBuffer(size));
      names.forEach((n, i) => {
        const v = (values as Record<string, number>)[n];
        if (typeof v !== 'number' || Number.isNaN(v)) {
          throw new KimiVLError('ShapeError', `uniform ${name}.${n} missing or not a number (got ${v})`);
        }
        const at = offset + i * 4;
        const t = fields[n];
        if (t === 'f32') view.setFloat32(at, v, true);
        else if (t === 'u32') {
          if (v < 0 || !Number.isInteger(v) || v > 0xffffffff)
            throw new KimiVLError('ShapeError', `uniform ${name}.${n} = ${v} is not a u32`);
          view.setUint32(at, v, true);
        } else view.setInt32(at, v, true);
      });
      return new Uint8Array(view.buffer, view.byteOffset + offset, size);
    },
  };
}
