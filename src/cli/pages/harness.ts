// The page the CLI drives in headless Chromium. Each task is a function on window.kimiHarness that takes
// plain JSON and returns plain JSON, so the Node side never depends on browser types.
import { describeAdapter, requestAdapter } from '../../gpu/device.ts';

async function doctor() {
  const adapter = await requestAdapter();
  return { userAgent: navigator.userAgent, adapter: describeAdapter(adapter) };
}

const tasks: Record<string, (arg: never) => Promise<unknown>> = {
  doctor,
  golden: async (arg) => (await import('./golden_task.ts')).runGoldenTask(arg),
  run: async (arg) => (await import('./run_task.ts')).runTask(arg),
  bench: async (arg) => (await import('./bench_task.ts')).runBenchTask(arg),
};

/** Registers a task lazily imported by the CLI (keeps doctor free of the model code). */
export function registerTask(name: string, fn: (arg: never) => Promise<unknown>): void {
  tasks[name] = fn;
}

async function runTask(name: string, arg: unknown): Promise<unknown> {
  const fn = tasks[name];
  if (!fn) throw new Error(`unknown harness task ${name}`);
  try {
    return { ok: true, value: await fn(arg as never) };
  } catch (e) {
    const err = e as Error;
    return { ok: false, name: err.name, message: err.message, stack: err.stack };
  }
}

(globalThis as { kimiHarness?: unknown }).kimiHarness = { runTask };
