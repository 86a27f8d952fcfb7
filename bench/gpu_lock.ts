// `--lock FILE`: hold an flock(1) lock on FILE around each bench section (not the whole run), so a long
// bench on a shared machine lets other GPU jobs run between its sections. The lock is held by a child
// `flock FILE sh -c 'echo held; cat'` that exits, releasing it, when its stdin closes.
import { spawn } from 'node:child_process';

export interface HeldLock {
  release(): Promise<void>;
}

export function acquireLock(file: string): Promise<HeldLock> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', [file, 'sh', '-c', 'echo held; cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('error', reject);
    child.stdout.once('data', () =>
      resolve({
        release: async () => {
          child.stdin.end();
          await exited;
        },
      }),
    );
    child.once('exit', (code) => reject(new Error(`flock ${file} exited (${code}) before holding the lock`)));
  });
}

/** Runs `fn` under the lock when `file` is given, else as it is. */
export async function underLock<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!file) return fn();
  const lock = await acquireLock(file);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
