// `npx tsx scripts/replay_host_time.ts [--tiny] [--context N] [--tokens N]`: host ms per decode token,
// replay on vs off, on the counting backend (replay_host_time_run.ts), loaded through Vite's SSR module
// loader so the kernels' WGSL `?raw` imports resolve as in the browser.
import { resolve } from 'node:path';
import { createServer } from 'vite';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const server = await createServer({
  root: resolve(import.meta.dirname, '..'),
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  optimizeDeps: { noDiscovery: true, entries: [] },
  server: { middlewareMode: true, hmr: false, watch: null },
});
try {
  const run = (await server.ssrLoadModule(
    '/scripts/replay_host_time_run.ts',
  )) as typeof import('./replay_host_time_run.ts');
  await run.main(process.argv.includes('--tiny'), arg('--context', 1000), arg('--tokens', 200));
} finally {
  await server.close();
}
