// What every `kimi-vl <command>` module exports as `command`. Its own module so that the commands and the
// dispatcher (main.ts) both point down to it and never at each other.

export interface CliCommand {
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}

/** Loads a command module lazily (keeps `kimi-vl tokenize` free of Playwright). */
export type CommandLoader = () => Promise<{ command: CliCommand }>;
