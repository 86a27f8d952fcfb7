import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { hubRepoUrl, resolveSource } from './source.ts';

describe('resolveSource', () => {
  it('maps a repo id to the Hub resolve layout, revision main by default', async () => {
    const s = await resolveSource('moonshotai/Kimi-VL-A3B-Instruct');
    expect(s).toMatchObject({
      kind: 'remote',
      id: 'hf:moonshotai/Kimi-VL-A3B-Instruct@main',
      baseUrl: 'https://huggingface.co/moonshotai/Kimi-VL-A3B-Instruct/resolve/main/',
    });
    if (s.kind !== 'remote') throw new Error('remote expected');
    expect(s.fileUrl('model-00001-of-00007.safetensors')).toBe(
      'https://huggingface.co/moonshotai/Kimi-VL-A3B-Instruct/resolve/main/model-00001-of-00007.safetensors',
    );
  });

  it('takes "@rev" and the object form alike, escaping slashes in revisions', async () => {
    const a = await resolveSource('org/name@refs/pr/3');
    const b = await resolveSource({ repo: 'org/name', revision: 'refs/pr/3' });
    expect(a).toMatchObject({
      id: 'hf:org/name@refs/pr/3',
      baseUrl: 'https://huggingface.co/org/name/resolve/refs%2Fpr%2F3/',
    });
    expect(b.id).toBe(a.id);
    expect(hubRepoUrl('org/name', 'v1.0', 'http://localhost:9/hub/')).toBe(
      'http://localhost:9/hub/org/name/resolve/v1.0/',
    );
  });

  it('keys a mirror separately from huggingface.co', async () => {
    const s = await resolveSource('org/name', { hubUrl: 'http://mirror.test/' });
    expect(s).toMatchObject({
      id: 'hf:org/name@main via http://mirror.test',
      baseUrl: 'http://mirror.test/org/name/resolve/main/',
    });
  });

  it('treats http(s) strings as folders, adding the trailing slash and dropping query and hash', async () => {
    const s = await resolveSource('https://example.com/models/tiny?x=1#y');
    expect(s).toMatchObject({
      id: 'url:https://example.com/models/tiny/',
      baseUrl: 'https://example.com/models/tiny/',
    });
    const o = await resolveSource({ url: 'http://h:8080/a/b/' });
    expect(o.id).toBe('url:http://h:8080/a/b/');
  });

  it('refuses what is neither a repo id nor a URL', async () => {
    for (const bad of ['just-a-name', 'a/b/c', '../x/..', 'ftp://host/dir']) {
      const e = await resolveSource(bad).catch((x) => x);
      expect(isKimiVLError(e, 'ConfigError'), bad).toBe(true);
    }
  });

  it('identifies dropped files by names, sizes and dates, below their folder', async () => {
    const f = (name: string, rel: string, body: string) => {
      const file = new File([body], name, { lastModified: 1 });
      Object.defineProperty(file, 'webkitRelativePath', { value: rel });
      return file;
    };
    const files = [
      f('config.json', 'tiny/config.json', '{}'),
      f('a.safetensors', 'tiny/a.safetensors', 'xyz'),
    ];
    const s = await resolveSource({ files });
    if (s.kind !== 'local') throw new Error('local expected');
    expect([...s.files.keys()].sort()).toEqual(['a.safetensors', 'config.json']);
    const again = await resolveSource({ files: [...files].reverse() });
    expect(again.id).toBe(s.id);
    const other = await resolveSource({
      files: [files[0]!, f('a.safetensors', 'tiny/a.safetensors', 'xyzw')],
    });
    expect(other.id).not.toBe(s.id);
  });
});
