// The page the CLI drives in headless Chromium. Each task is a function on window.kimiHarness that takes
// plain JSON and returns plain JSON, so the Node side never depends on browser types.
import { describeAdapter, requestAdapter } from '../../gpu/device.ts';

async function doctor() {
  const adapter = await requestAdapter();
  return { userAgent: navigator.userAgent, adapter: describeAdapter(adapter) };
}

type Task = (arg: never) => Promise<unknown>;

// The engine's own tasks, imported lazily (keeps doctor free of the model code).
const tasks: Record<string, Task> = {
  doctor,
  golden: async (arg) => (await import('./golden_task.ts')).runGoldenTask(arg),
  run: async (arg) => (await import('./run_task.ts')).runTask(arg),
  check: async (arg) => (await import('./preflight_task.ts')).runCheckTask(arg),
  download: async (arg) => (await import('./preflight_task.ts')).runDownloadTask(arg),
};

/**
 * Adds a task whose module lives outside src/ (the benchmark's, bench/pages/bench_task.ts), named by the
 * Node side (BrowserOptions.taskModules) so the engine never imports it. `url` is served by the same dev
 * server; the module exports `runTask(arg)`.
 */
function addTaskModule(name: string, url: string): void {
  tasks[name] = async (arg) => {
    const mod = (await import(/* @vite-ignore */ url)) as { runTask: Task };
    return mod.runTask(arg);
  };
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

(globalThis as { kimiHarness?: unknown }).kimiHarness = { runTask, addTaskModule };
