// `npx tsx scripts/replay_host_time.ts [--tiny] [--context N] [--tokens N]`: host ms per decode token,
// replay on vs off, on the counting backend (replay_host_time_run.ts, loaded through bench/ssr_loader.ts).
import { resolve } from 'node:path';
import { withSsrLoader } from '../bench/ssr_loader.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
await withSsrLoader(resolve(import.meta.dirname, '..'), async (load) => {
  const run = await load<typeof import('./replay_host_time_run.ts')>('/scripts/replay_host_time_run.ts');
  await run.main(process.argv.includes('--tiny'), arg('--context', 1000), arg('--tokens', 200));
});
