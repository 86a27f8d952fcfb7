// The CLI's per-user cache: the headless browser's profile lives here, and with it the engine's model
// cache (OPFS is per browser profile and per origin), so `kimi-vl download` once and later `kimi-vl run`s
// find the model. $KIMI_VL_CACHE moves it; otherwise $XDG_CACHE_HOME/kimi-vl, ~/.cache/kimi-vl, or on
// Windows %LOCALAPPDATA%\kimi-vl. The page is always served at one origin (HARNESS_PORT) for the same reason.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The port of the page the CLI drives; a fixed port keeps one origin, so one model cache, across runs. */
export const HARNESS_PORT = Number(process.env.KIMI_VL_PORT ?? 41_733);

export function userCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.KIMI_VL_CACHE) return env.KIMI_VL_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'kimi-vl');
  if (platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'kimi-vl');
  return join(homedir(), '.cache', 'kimi-vl');
}

export interface BrowserProfile {
  dir: string;
  /** false: the per-user profile was in use by another kimi-vl, this run has a temporary one (no cache). */
  shared: boolean;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The per-user browser profile, locked for this process (Chromium cannot share a profile between two
 * browsers). When another kimi-vl holds it, a temporary profile is used and `shared` says so.
 */
export function acquireProfile(cacheDir: string = userCacheDir()): BrowserProfile {
  const dir = join(cacheDir, 'chromium-profile');
  const lock = join(cacheDir, 'chromium-profile.lock');
  mkdirSync(dir, { recursive: true });
  const holder = existsSync(lock) ? Number(readFileSync(lock, 'utf8')) : 0;
  if (holder && holder !== process.pid && alive(holder)) {
    const temp = mkdtempSync(join(tmpdir(), 'kimi-vl-profile-'));
    return { dir: temp, shared: false, release: () => rmSync(temp, { recursive: true, force: true }) };
  }
  writeFileSync(lock, String(process.pid));
  return {
    dir,
    shared: true,
    release: () => {
      if (existsSync(lock) && Number(readFileSync(lock, 'utf8')) === process.pid)
        rmSync(lock, { force: true });
    },
  };
}
