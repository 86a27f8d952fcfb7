#!/usr/bin/env node
// The `kimi-vl` command. Installed from npm it runs the compiled CLI (dist/cli/, plain JavaScript, needing
// only the package's dependencies); in a clone of the repository (src/ present) it runs the TypeScript
// sources through tsx, so no build step is needed while developing.
// Composition happens here, above both the engine (src/cli) and its benchmark (bench/, repository only):
// the engine's commands come from src/cli/main.ts, the `bench` command from bench/, so src/ never imports bench/.
import { existsSync } from 'node:fs';

const inRepository = existsSync(new URL('../src/cli/main.ts', import.meta.url));
let main;
const extra = {};
if (inRepository) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
  extra.bench = () => import('../bench/cli_command.ts');
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2), extra);
