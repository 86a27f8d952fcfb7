// Checkpoint folders on the local disk (Node: CLI and tests). Reads only the byte ranges asked for,
// through a file handle, so a 33 GB checkpoint never sits in memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KimiVLError } from '../errors.ts';
import type { QuantType } from '../tensor/quant_format.ts';
import type { HostWeight } from '../tensor/types.ts';
import { type AssembleOptions, assembleWeights } from './assemble.ts';
import {
  type CheckpointFiles,
  type OpenedCheckpoint,
  type OpenOptions,
  openCheckpoint,
} from './checkpoint.ts';
import { isPlainFileName } from './index_json.ts';

function pathOf(dir: string, file: string): string {
  if (!isPlainFileName(file))
    throw new KimiVLError('CheckpointError', `refusing file name "${file}" outside ${dir}`);
  return join(dir, file);
}

export function nodeFiles(dir: string): CheckpointFiles {
  return {
    location: dir,
    async exists(file) {
      try {
        await access(pathOf(dir, file));
        return true;
      } catch {
        return false;
      }
    },
    async size(file) {
      try {
        return (await stat(pathOf(dir, file))).size;
      } catch {
        throw new KimiVLError('CheckpointError', `${file} is missing from ${dir}`);
      }
    },
    async readRange(file, start, end) {
      const fh = await open(pathOf(dir, file), 'r');
      try {
        const out = new Uint8Array(end - start);
        let done = 0;
        while (done < out.byteLength) {
          const { bytesRead } = await fh.read(out, done, out.byteLength - done, start + done);
          if (bytesRead === 0)
            throw new KimiVLError(
              'CheckpointError',
              `${file}: ended after ${start + done} bytes, expected ${end}`,
            );
          done += bytesRead;
        }
        return out;
      } finally {
        await fh.close();
      }
    },
    async readText(file) {
      try {
        return await readFile(pathOf(dir, file), 'utf8');
      } catch {
        throw new KimiVLError('CheckpointError', `${file} is missing from ${dir}`);
      }
    },
    sha256(file) {
      return new Promise((resolve, reject) => {
        const h = createHash('sha256');
        createReadStream(pathOf(dir, file))
          .on('data', (c) => h.update(c))
          .on('end', () => resolve(h.digest('hex')))
          .on('error', reject);
      });
    },
  };
}

/** Opens a Hugging Face or converted checkpoint folder (headers and configs validated, no tensor data read). */
export async function openCheckpointDir(dir: string, opts: OpenOptions = {}): Promise<OpenedCheckpoint> {
  return openCheckpoint(nodeFiles(dir), opts);
}

/** All engine weights of a checkpoint folder in memory (tests, the CPU reference). */
export async function loadHostWeights(
  dir: string,
  quant: 'none' | QuantType = 'none',
  opts: Omit<AssembleOptions, 'quant'> = {},
): Promise<Map<string, HostWeight>> {
  const ck = await openCheckpointDir(dir);
  const out = new Map<string, HostWeight>();
  for await (const [name, w] of assembleWeights(ck.config, ck.source, { ...opts, quant })) out.set(name, w);
  return out;
}
