// The public cache calls, with their arguments checked on the page (validate.ts) before the cache is
// touched: a wrong id is a ConfigError naming the argument, not a TypeError from deep in OPFS code.
import {
  type DeleteCachedOptions,
  deleteCachedModel as deleteFromCache,
  listCachedModels,
} from '../weights/cache.ts';
import { checkCachedModelId } from './validate.ts';

export { listCachedModels };

/** Deletes a cached model (see weights/cache.ts deleteCachedModel); returns whether anything was removed. */
export async function deleteCachedModel(id: string, opts: DeleteCachedOptions = {}): Promise<boolean> {
  checkCachedModelId(id, opts);
  return deleteFromCache(id, opts);
}
