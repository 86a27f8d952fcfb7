// Node side of the harness: calls a task in the page and turns a failure back into a typed error.
import { KimiVLError, type KimiVLErrorName } from '../errors.ts';
import type { BrowserSession } from './browser.ts';

type TaskResult = { ok: true; value: unknown } | { ok: false; name: string; message: string; stack?: string };

export async function runHarnessTask<T>(s: BrowserSession, task: string, arg: unknown = null): Promise<T> {
  const r = (await s.page.evaluate(
    ([t, a]) =>
      (
        globalThis as unknown as { kimiHarness: { runTask(t: string, a: unknown): Promise<unknown> } }
      ).kimiHarness.runTask(t as string, a),
    [task, arg] as const,
  )) as TaskResult;
  if (r.ok) return r.value as T;
  if (r.name.endsWith('Error') && r.name !== 'Error' && r.name !== 'TypeError') {
    throw new KimiVLError(r.name as KimiVLErrorName, r.message);
  }
  throw new Error(`${r.name}: ${r.message}\n${r.stack ?? ''}`);
}
