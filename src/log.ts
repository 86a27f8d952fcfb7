// The engine's console output, behind one level (the public `logLevel` load option): 'error' < 'warn'
// < 'info' < 'debug'; 'silent' prints nothing. Default 'warn': a corrupt cache file being fetched again
// or a quota warning is worth a line, routine progress is not. The level is per JavaScript realm, so
// the page and the worker each set theirs from the same load option.

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

export const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];

let current: LogLevel = 'warn';

export function setLogLevel(level: LogLevel | undefined): void {
  if (level !== undefined && LOG_LEVELS.includes(level)) current = level;
}

export function logLevel(): LogLevel {
  return current;
}

const enabled = (level: Exclude<LogLevel, 'silent'>) =>
  LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(current);

/** Console output that honours the level (messages start with "kimi-vl-web:" themselves). */
export const log = {
  error: (...args: unknown[]) => void (enabled('error') && console.error(...args)),
  warn: (...args: unknown[]) => void (enabled('warn') && console.warn(...args)),
  info: (...args: unknown[]) => void (enabled('info') && console.info(...args)),
  debug: (...args: unknown[]) => void (enabled('debug') && console.debug(...args)),
};
