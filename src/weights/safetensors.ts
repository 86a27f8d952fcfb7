// Safetensors headers, trusting nothing: the same code checks a shard in Node, over HTTP and in the
// browser, before a single tensor byte is read.
//
// File layout: [u64 LE header length N][N bytes of UTF-8 JSON][data section]. The JSON maps tensor
// names to {dtype, shape, data_offsets: [begin, end)} (offsets relative to the data section) plus an
// optional "__metadata__" string map. Checked here: N ≤ MAX_HEADER_BYTES and 8 + N ≤ file size; the
// JSON is an object; every dtype known; every shape a list of non-negative integers; end − begin =
// elements × element size; the ranges tile the data section exactly (no overlap, no hole, nothing
// past the end of the file, no trailing bytes), as the reference `safetensors` library requires.
//
// Besides the standard BF16/F16/F32, converted kimi-vl-web shards use two dtypes of their own:
// KVQ8 and KVQ4 are blobs in the kvq1 block format (src/tensor/quant_format.ts) whose `shape` is the
// logical shape of the weight and whose byte size is quantLayout(shape).totalBytes.
import { KimiVLError } from '../errors.ts';
import { quantLayout } from '../tensor/quant_format.ts';
import type { WeightDType } from '../tensor/types.ts';

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export type SafetensorsDType = 'BF16' | 'F16' | 'F32' | 'KVQ8' | 'KVQ4';

export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** Absolute byte offsets in the file, [start, end). */
  start: number;
  end: number;
}

export interface SafetensorsFile {
  fileName: string;
  fileSize: number;
  headerLength: number;
  /** Absolute offset of the data section (8 + headerLength). */
  dataStart: number;
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

const ELEMENT_BYTES = { BF16: 2, F16: 2, F32: 4 } as const;

export const SAFETENSORS_TO_WEIGHT: Record<SafetensorsDType, WeightDType> = {
  BF16: 'bf16',
  F16: 'f16',
  F32: 'f32',
  KVQ8: 'q8',
  KVQ4: 'q4',
};

export const WEIGHT_TO_SAFETENSORS: Record<WeightDType, SafetensorsDType> = {
  bf16: 'BF16',
  f16: 'F16',
  f32: 'F32',
  q8: 'KVQ8',
  q4: 'KVQ4',
};

/** Bytes a tensor of this dtype and shape occupies. */
export function tensorByteSize(dtype: SafetensorsDType, shape: readonly number[]): number {
  if (dtype === 'KVQ8' || dtype === 'KVQ4') {
    if (shape.length === 0) return Number.NaN;
    return quantLayout(dtype === 'KVQ8' ? 'q8' : 'q4', shape).totalBytes;
  }
  return shape.reduce((a, b) => a * b, 1) * ELEMENT_BYTES[dtype];
}

function fail(fileName: string, message: string): never {
  throw new KimiVLError('SafetensorsError', `${fileName}: ${message}`);
}

/** Reads and bounds the u64 header length from the first 8 bytes of a file of `fileSize` bytes. */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number, fileName: string): number {
  if (fileSize < 8 || first8.byteLength < 8)
    fail(fileName, `file of ${fileSize} bytes is too short to be a safetensors file (truncated download?)`);
  const dv = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi >= 2 ** 21 || n > MAX_HEADER_BYTES)
    fail(fileName, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit; not a safetensors file?`);
  if (n < 2) fail(fileName, `header length ${n} is too small for a JSON object`);
  if (8 + n > fileSize)
    fail(fileName, `header length ${n} runs past the end of the ${fileSize}-byte file (truncated download?)`);
  return n;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.hasOwn(SAFETENSORS_TO_WEIGHT, s);
}

function parseEntry(fileName: string, name: string, v: unknown, dataStart: number): SafetensorsTensor {
  const where = `tensor "${name}"`;
  if (!isObject(v)) fail(fileName, `${where}: header entry must be an object`);
  if (!isDType(v.dtype))
    fail(
      fileName,
      `${where}: unsupported dtype ${JSON.stringify(v.dtype)} (known: BF16, F16, F32, KVQ8, KVQ4)`,
    );
  const shape = v.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    fail(fileName, `${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  const offs = v.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0))
    fail(fileName, `${where}: data_offsets must be two non-negative integers, got ${JSON.stringify(offs)}`);
  const [begin, end] = offs as [number, number];
  if (end < begin) fail(fileName, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
  const expected = tensorByteSize(v.dtype, shape as number[]);
  if (end - begin !== expected)
    fail(
      fileName,
      `${where}: ${end - begin} bytes stored but ${v.dtype} [${shape}] needs ${expected} (shape and data disagree)`,
    );
  return { dtype: v.dtype, shape: shape as number[], start: dataStart + begin, end: dataStart + end };
}

/** The ranges must tile [dataStart, fileSize) exactly: no overlap, no hole, nothing outside the file. */
function checkLayout(
  fileName: string,
  tensors: Map<string, SafetensorsTensor>,
  dataStart: number,
  fileSize: number,
) {
  const sorted = [...tensors].sort((a, b) => a[1].start - b[1].start || a[1].end - b[1].end);
  let cursor = dataStart;
  let prev = '(header)';
  for (const [name, t] of sorted) {
    if (t.end > fileSize)
      fail(
        fileName,
        `tensor "${name}" ends at byte ${t.end}, past the end of the ${fileSize}-byte file (truncated?)`,
      );
    if (t.start < cursor) fail(fileName, `tensor "${name}" overlaps "${prev}" (bytes ${t.start}..${cursor})`);
    if (t.start > cursor)
      fail(fileName, `hole of ${t.start - cursor} bytes before tensor "${name}" at byte ${cursor}`);
    cursor = t.end;
    prev = name;
  }
  if (cursor !== fileSize)
    fail(fileName, `${fileSize - cursor} bytes after the last tensor are not described by the header`);
}

/**
 * Parses and validates a safetensors header. `bytes` holds at least the first 8 + headerLength bytes
 * of the file; `fileSize` is the whole file's size (from stat, Content-Range or Content-Length).
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  fileSize: number,
  fileName: string,
): SafetensorsFile {
  const headerLength = safetensorsHeaderLength(bytes.subarray(0, 8), fileSize, fileName);
  if (bytes.byteLength < 8 + headerLength)
    fail(fileName, `only ${bytes.byteLength} bytes given, the header needs ${8 + headerLength}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail(fileName, 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(fileName, `header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(json)) fail(fileName, 'header JSON must be an object of tensors');
  const dataStart = 8 + headerLength;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  for (const name of Object.keys(json)) {
    const v = json[name];
    if (name === '__metadata__') {
      if (!isObject(v)) fail(fileName, '__metadata__ must be an object of strings');
      for (const k of Object.keys(v)) {
        if (typeof v[k] !== 'string') fail(fileName, `__metadata__.${k} must be a string`);
        metadata[k] = v[k] as string;
      }
      continue;
    }
    if (name.length === 0) fail(fileName, 'a tensor has an empty name');
    tensors.set(name, parseEntry(fileName, name, v, dataStart));
  }
  checkLayout(fileName, tensors, dataStart, fileSize);
  return { fileName, fileSize, headerLength, dataStart, metadata, tensors };
}

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte length of the tensor's data. */
  bytes: number;
}

/**
 * Builds the header (u64 length + JSON padded with spaces to a multiple of 8, as the reference library
 * does) for tensors laid out back to back in the given order. Returns the header bytes and each
 * tensor's absolute file offset.
 */
export function encodeSafetensorsHeader(
  entries: readonly SafetensorsEntry[],
  metadata: Record<string, string> = {},
): { header: Uint8Array; offsets: number[]; fileSize: number } {
  const json: Record<string, unknown> = { __metadata__: metadata };
  let cursor = 0;
  const rel: number[] = [];
  for (const e of entries) {
    json[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [cursor, cursor + e.bytes] };
    rel.push(cursor);
    cursor += e.bytes;
  }
  const body = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(body.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8);
  header.set(body, 8);
  new DataView(header.buffer).setUint32(0, padded, true);
  return { header, offsets: rel.map((r) => r + 8 + padded), fileSize: 8 + padded + cursor };
}
