// The Hugging Face Hub's tree listing, emulated for the e2e server: a folder served at
// <prefix>/<org>/<repo>/resolve/<rev>/ answers <prefix>/api/models/<org>/<repo>/tree/<rev>?recursive=1
// with what the Hub returns: every file's size and git oid, and for LFS files (here: *.safetensors)
// lfs.oid = the sha256 of the content, which the browser loader verifies downloads against.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const TREE = /^(.*?)\/?api\/models\/(.+)\/tree\/([^/]+)$/;

export interface HubTreeEntry {
  type: 'file';
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

/** The folder a listing path names (mount-relative "hub-x/api/models/org/repo/tree/main"), or null. */
export function hubTreeFolder(root: string, rest: string): string | null {
  const m = TREE.exec(rest);
  if (!m) return null;
  return resolve(root, m[1]!, m[2]!, 'resolve', decodeURIComponent(m[3]!));
}

const digests = new Map<string, { key: string; sha256: string; gitOid: string }>();

async function digestsOf(file: string, size: number, mtimeMs: number) {
  const key = `${size}:${mtimeMs}`;
  const known = digests.get(file);
  if (known?.key === key) return known;
  const bytes = await readFile(file);
  const d = {
    key,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    gitOid: createHash('sha1').update(`blob ${size}\0`).update(bytes).digest('hex'),
  };
  digests.set(file, d);
  return d;
}

export async function hubTreeListing(folder: string, prefix = ''): Promise<HubTreeEntry[]> {
  const out: HubTreeEntry[] = [];
  for (const name of (await readdir(folder)).sort()) {
    const full = join(folder, name);
    const st = await stat(full);
    if (st.isDirectory()) {
      out.push(...(await hubTreeListing(full, `${prefix}${name}/`)));
      continue;
    }
    if (!st.isFile()) continue;
    const d = await digestsOf(full, st.size, st.mtimeMs);
    const lfs = name.endsWith('.safetensors');
    out.push({
      type: 'file',
      path: prefix + name,
      size: st.size,
      oid: d.gitOid,
      ...(lfs ? { lfs: { oid: d.sha256, size: st.size, pointerSize: 134 } } : {}),
    });
  }
  return out;
}
