// zlib (RFC 1950) inflate with a known output size, on the platform's DecompressionStream
// (browsers, workers and Node ≥ 18 all have it), so no inflate code of our own is needed.
import { KimiVLError } from '../errors.ts';

/**
 * Inflates `compressed` and returns exactly `expectedBytes` bytes.
 * Reading stops as soon as enough bytes arrived (a decompression bomb cannot grow memory past the
 * expected size; trailing data is ignored, as Pillow's PNG reader does). A stream that ends early or is
 * corrupt becomes an ImageError; every path ends, because the whole input is written before reading.
 */
export async function inflateZlib(
  compressed: Uint8Array,
  expectedBytes: number,
  what: string,
): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new KimiVLError(
      'ImageError',
      `${what}: this environment has no DecompressionStream; use a browser, a worker or Node ≥ 20`,
    );
  }
  // Grown as data arrives, so a header that claims a huge image costs memory only if the data is there.
  let out = new Uint8Array(Math.min(expectedBytes, 1 << 16));
  const stream = new DecompressionStream('deflate');
  const writer = stream.writable.getWriter();
  // Errors of the writable side also error the readable side, where they are reported.
  writer.write(compressed as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  let filled = 0;
  try {
    while (filled < expectedBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, expectedBytes - filled);
      if (filled + take > out.length) {
        const grown = new Uint8Array(Math.min(expectedBytes, Math.max(out.length * 2, filled + take)));
        grown.set(out.subarray(0, filled));
        out = grown;
      }
      out.set(take === value.length ? value : value.subarray(0, take), filled);
      filled += take;
    }
  } catch (e) {
    throw new KimiVLError('ImageError', `${what}: corrupt compressed image data (${String(e)})`, {
      cause: e,
    });
  } finally {
    reader.cancel().catch(() => {});
  }
  if (filled < expectedBytes) {
    throw new KimiVLError(
      'ImageError',
      `${what}: compressed image data is truncated (${filled} of ${expectedBytes} bytes after inflating)`,
    );
  }
  return out;
}
