// Where a model comes from, in the browser. A source is resolved once into either a remote folder
// (every file at `<baseUrl><name>`: a Hugging Face repo or any HTTP(S) folder) or a set of local
// File objects (a File System Access directory or drag-dropped files). Resolving needs no network,
// so a cached model can be found before anything is requested.
import { KimiVLError } from '../errors.ts';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export type ModelSource =
  /** "org/name", "org/name@rev", an http(s) URL of a folder, or a path relative to the page. */
  | string
  | { url: string }
  | { repo: string; revision?: string; hubUrl?: string }
  | { directory: FileSystemDirectoryHandle }
  | { files: ArrayLike<File> };

export interface RemoteModel {
  kind: 'remote';
  /** Stable cache key: "hf:org/name@rev" or "url:<absolute folder URL>". */
  id: string;
  /** Absolute folder URL ending in "/". */
  baseUrl: string;
  fileUrl(name: string): string;
}

export interface LocalModel {
  kind: 'local';
  id: string;
  files: Map<string, File>;
}

export type ResolvedSource = RemoteModel | LocalModel;

const REPO_ID = /^([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:@(.+))?$/;

function remote(id: string, baseUrl: string): RemoteModel {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return { kind: 'remote', id, baseUrl: base, fileUrl: (name) => new URL(encodeURI(name), base).href };
}

/** `https://huggingface.co/<org>/<name>/resolve/<rev>/` for a repo id (the layout real repos use). */
export function hubRepoUrl(repo: string, revision = 'main', hubUrl = DEFAULT_HUB_URL): string {
  const hub = hubUrl.replace(/\/+$/, '');
  // Revisions like "refs/pr/1" are one path segment on the Hub, slashes escaped.
  return `${hub}/${repo}/resolve/${encodeURIComponent(revision)}/`;
}

function pageBase(): string | undefined {
  return typeof location !== 'undefined' ? location.href : undefined;
}

function fromRepo(repo: string, revision: string | undefined, hubUrl: string | undefined): RemoteModel {
  const m = REPO_ID.exec(repo);
  if (!m || repo.includes('..'))
    throw new KimiVLError(
      'ConfigError',
      `"${repo}" is not a Hugging Face repo id; use "org/name" or "org/name@revision".`,
    );
  const rev = revision ?? m[3] ?? 'main';
  const name = `${m[1]}/${m[2]}`;
  const hub = hubUrl ?? DEFAULT_HUB_URL;
  // The hub URL is part of the id: a mirror's copy is cached separately from huggingface.co's.
  const id =
    hub === DEFAULT_HUB_URL ? `hf:${name}@${rev}` : `hf:${name}@${rev} via ${hub.replace(/\/+$/, '')}`;
  return remote(id, hubRepoUrl(name, rev, hub));
}

function fromUrl(url: string): RemoteModel {
  let abs: URL;
  try {
    abs = new URL(url, pageBase());
  } catch {
    throw new KimiVLError('ConfigError', `"${url}" is not a URL a model can be loaded from.`);
  }
  if (abs.protocol !== 'http:' && abs.protocol !== 'https:')
    throw new KimiVLError('ConfigError', `Model URLs must be http(s), got "${abs.protocol}".`);
  abs.hash = '';
  abs.search = '';
  let href = abs.href;
  if (!href.endsWith('/')) href = `${href}/`;
  return remote(`url:${href}`, href);
}

/** Lists a directory handle's files (recursively, names relative to it with "/"). */
async function filesOfDirectory(dir: FileSystemDirectoryHandle, prefix = ''): Promise<Map<string, File>> {
  const out = new Map<string, File>();
  const it = (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries();
  for await (const [name, handle] of it) {
    if (handle.kind === 'file') out.set(prefix + name, await (handle as FileSystemFileHandle).getFile());
    else if (prefix.split('/').length < 3)
      for (const [n, f] of await filesOfDirectory(handle as FileSystemDirectoryHandle, `${prefix}${name}/`))
        out.set(n, f);
  }
  return out;
}

/** Drag-dropped files carry their folder in webkitRelativePath; keep only the part below the model folder. */
function filesOfList(list: ArrayLike<File>): Map<string, File> {
  const out = new Map<string, File>();
  for (const f of Array.from(list)) {
    const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
    const parts = rel ? rel.split('/') : [f.name];
    out.set(parts.length > 1 ? parts.slice(1).join('/') : parts[0]!, f);
  }
  return out;
}

function localId(label: string, files: Map<string, File>): string {
  const sig = [...files]
    .map(([n, f]) => `${n}:${f.size}:${f.lastModified}`)
    .sort()
    .join('|');
  let h = 0x811c9dc5;
  for (let i = 0; i < sig.length; i++) h = Math.imul(h ^ sig.charCodeAt(i), 0x01000193) >>> 0;
  return `local:${label}:${h.toString(16)}`;
}

/** Turns any accepted source into a remote folder or a local file set, without touching the network. */
export async function resolveSource(
  source: ModelSource,
  opts: { hubUrl?: string } = {},
): Promise<ResolvedSource> {
  if (typeof source === 'string') {
    const s = source.trim();
    if (/^https?:\/\//i.test(s) || /^\.{0,2}\//.test(s)) return fromUrl(s);
    const m = REPO_ID.exec(s);
    if (m) return fromRepo(s, undefined, opts.hubUrl);
    throw new KimiVLError(
      'ConfigError',
      `"${source}" is neither a Hugging Face repo id ("org/name[@rev]") nor an http(s) folder URL.`,
    );
  }
  if ('url' in source) return fromUrl(source.url);
  if ('repo' in source) return fromRepo(source.repo, source.revision, source.hubUrl ?? opts.hubUrl);
  if ('directory' in source) {
    const files = await filesOfDirectory(source.directory);
    return { kind: 'local', id: localId(source.directory.name, files), files };
  }
  if ('files' in source) {
    const files = filesOfList(source.files);
    return { kind: 'local', id: localId('files', files), files };
  }
  throw new KimiVLError(
    'ConfigError',
    'Unknown model source; pass a repo id, a URL, a directory handle or files.',
  );
}
