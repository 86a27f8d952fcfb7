#!/usr/bin/env node
// The `kimi-vl` command. Sources are TypeScript; tsx runs them without a build step.
// Composition happens here, above both the engine (src/cli) and its benchmark (bench/): the engine's
// commands come from src/cli/main.ts, the `bench` command from bench/, so src/ never imports bench/.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), {
  bench: () => import('../bench/cli_command.ts'),
});
