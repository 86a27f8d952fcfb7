// Golden file access from a page served by Vite: absolute paths are fetched through /@fs/.
import { KimiVLError } from '../errors.ts';
import { urlFiles } from '../weights/url_files.ts';
import type { GoldenIO } from './reader.ts';

export function fsUrl(absPath: string): string {
  return `${location.origin}/@fs${absPath}`;
}

export const browserGoldenIO: GoldenIO = {
  async readBytes(p) {
    const r = await fetch(fsUrl(p));
    if (!r.ok) throw new KimiVLError('CheckpointError', `golden file ${p}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  },
  checkpointFiles: (dir) => urlFiles(`${fsUrl(dir)}/`),
};
