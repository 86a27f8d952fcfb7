// The consumer tier's plumbing: named checks that time themselves and are counted, child processes with
// a clean npm environment, and a preview server to wait for.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface CheckResult {
  name: string;
  ok: boolean;
  seconds: number;
  detail?: string;
}

export const results: CheckResult[] = [];

/** Runs one named check; a throw is its failure (the message is kept). Returns the value or null. */
export async function check<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
  const t0 = Date.now();
  try {
    const value = await fn();
    const seconds = (Date.now() - t0) / 1000;
    results.push({ name, ok: true, seconds });
    console.log(`consumer: ${name} passed (${seconds.toFixed(1)} s)`);
    return value;
  } catch (e) {
    const seconds = (Date.now() - t0) / 1000;
    const detail = (e as Error).message;
    results.push({ name, ok: false, seconds, detail });
    console.log(`consumer: ${name} FAILED (${seconds.toFixed(1)} s)\n${indent(detail)}`);
    return null;
  }
}

/** Records a check that could not run because an earlier one failed. */
export function blocked(name: string, by: string): void {
  results.push({ name, ok: false, seconds: 0, detail: `not run: ${by} failed` });
  console.log(`consumer: ${name} FAILED (not run: ${by} failed)`);
}

function indent(s: string): string {
  return s
    .split('\n')
    .slice(-40)
    .map((l) => `    ${l}`)
    .join('\n');
}

/** The environment minus what `npm test` sets for the repository's own package (it would leak into the app's npm). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^npm_(package_|lifecycle_|config_(global|prefix|local_prefix))|^INIT_CWD$/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command to completion; rejects with its output when it exits non-zero. Resolves with stdout. */
export function exec(
  cmd: string,
  args: string[],
  cwd: string,
  env = cleanEnv(),
  timeoutMs = 300_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}\n${out}\n${err}`.trim()));
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a long-running server process and waits until `url` answers 200. */
export async function startServer(
  cmd: string,
  args: string[],
  cwd: string,
  url: string,
  timeoutMs = 60_000,
): Promise<ChildProcess> {
  const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d) => {
    log += d;
  });
  child.stderr?.on('data', (d) => {
    log += d;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited early (${child.exitCode}):\n${log}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill();
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s:\n${log}`);
}
