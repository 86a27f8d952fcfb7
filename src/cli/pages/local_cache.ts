// The page half of local folders (cli/local_models.ts): a folder is served at
// http://127.0.0.1:<port>/local/<folder key>/v-<version>/, and the page caches it under that URL. Before
// a load, the copies cached for other versions of the same folder (any port: the port may change when
// one is busy) are deleted, converted forms included, so a retrained folder leaves no stale copy on disk.
import { deleteCachedModel, listCachedModels } from '../../index.ts';

const LOCAL_URL = /^http:\/\/127\.0\.0\.1:\d+\/local\/([0-9a-f]+)\/v-([0-9a-f]+)\/$/;

/** The cache ids (originals and converted forms) of other versions of the local folder behind `modelUrl`. */
export function staleLocalIds(modelUrl: string, cachedIds: readonly string[]): string[] {
  const m = LOCAL_URL.exec(modelUrl);
  if (!m) return [];
  const [, key, version] = m;
  return cachedIds.filter((id) => {
    const v = LOCAL_URL.exec(id.replace(/^url:/, '').replace(/#.*$/, ''));
    return v !== null && v[1] === key && v[2] !== version;
  });
}

/** Deletes what staleLocalIds names; a model that is not a served local folder is left alone. */
export async function dropStaleLocalCopies(modelUrl: string): Promise<string[]> {
  if (!LOCAL_URL.test(modelUrl)) return [];
  const stale = staleLocalIds(
    modelUrl,
    (await listCachedModels()).map((m) => m.id),
  );
  for (const id of stale) await deleteCachedModel(id, { converted: false });
  return stale;
}
