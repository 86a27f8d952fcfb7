// `npm test`'s consumer tier: the package as a user gets it. Packs the project, installs the tarball into a
// fresh Vite + TypeScript app in a temp folder (outside the repository, so nothing resolves from our own
// node_modules), type-checks it with skipLibCheck off, builds it, serves the build with `vite preview`
// (default config: its SPA fallback answers unknown paths with index.html) with the bundled tiny model in
// the app's public/, and in headless Chromium loads the model through the installed package: the engine
// must run in a worker and stream tokens. Then, in another fresh folder, `npm i <tarball>` alone must give
// a working `npx kimi-vl` (--version, --help, doctor, run). Writes {passed, failed, checks} to argv[2].
// Usage: tsx scripts/consumer/consumer.ts [report.json] [--tarball kimi-vl-web-x.y.z.tgz]
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { appFiles, MODEL_PATH } from './app_files.ts';
import { loadInPage } from './page.ts';
import { blocked, check, cleanEnv, exec, freePort, results, startServer } from './steps.ts';

const REPO = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const given = args.indexOf('--tarball'); // reuse a packed tarball (while working on this tier)
const givenTarball = given >= 0 ? resolve(args.splice(given, 2)[1]!) : null;
const reportFile = resolve(args[0] ?? join(REPO, '.cache/test-results/consumer.json'));
const work = mkdtempSync(join(tmpdir(), 'kimi-vl-consumer-'));
const version = (pkg: string) =>
  (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string })
    .version;
// The npm cache (~/.npm) keeps the app's installs fast after the first run; nothing is fetched twice.
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

async function consumerApp(tarball: string): Promise<void> {
  const app = join(work, 'app');
  const files = appFiles({ tarball, vite: version('vite'), typescript: version('typescript') });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(app, name)), { recursive: true });
    writeFileSync(join(app, name), text);
  }
  cpSync(join(REPO, 'public/models/kimi-vl-tiny'), join(app, 'public', MODEL_PATH), { recursive: true });
  const bin = (name: string) => join(app, 'node_modules/.bin', name);
  if ((await check('app: npm install <tarball>', () => exec('npm', NPM_INSTALL, app))) === null) {
    for (const n of ['app: tsc --noEmit', 'app: vite build', 'app: page in vite preview'])
      blocked(n, 'npm install');
    return;
  }
  await check('app: tsc --noEmit (strict, skipLibCheck: false)', () => exec(bin('tsc'), ['--noEmit'], app));
  if (
    (await check('app: vite build', () => exec(bin('vite'), ['build', '--logLevel', 'warn'], app))) === null
  ) {
    blocked('app: page in vite preview', 'vite build');
    return;
  }
  const port = await freePort();
  const url = `http://localhost:${port}/`;
  const preview = await check('app: vite preview starts', () =>
    startServer(
      bin('vite'),
      ['preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
      app,
      url,
    ),
  );
  if (!preview) return;
  try {
    const report = await check('app: page reports', () => loadInPage(url));
    for (const [name, what] of [
      ['default', 'the default worker'],
      ['packageWorker', "worker: new Worker(new URL('kimi-vl-web/worker', import.meta.url))"],
      ['appWorker', "worker: the app's own module importing 'kimi-vl-web/worker'"],
    ] as const)
      await check(`app: ${what} runs the engine and streams tokens`, async () => {
        const r = report?.[name];
        if (!r) throw new Error('the page gave no report');
        if (typeof r === 'string') throw new Error(r);
        if (r.mode !== 'worker') throw new Error(`engine.mode is ${r.mode}, expected worker`);
        if (r.tokens !== 4) throw new Error(`streamed ${r.tokens} tokens, expected 4`);
      });
  } finally {
    preview.kill();
  }
}

async function installedCli(tarball: string): Promise<void> {
  const dir = join(work, 'cli');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'kimi-vl-cli-check', private: true }));
  if ((await check('cli: npm i <tarball>', () => exec('npm', [...NPM_INSTALL, tarball], dir))) === null)
    return;
  // Its own cache folder: the check must not depend on (or disturb) the user's.
  const env = cleanEnv({ KIMI_VL_CACHE: join(work, 'kimi-vl-cache') });
  const npx = (...args: string[]) => exec('npx', ['--no-install', 'kimi-vl', ...args], dir, env);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  await check('cli: npx kimi-vl --version', async () => {
    const out = await npx('--version');
    if (!out.includes(pkg.version)) throw new Error(`printed "${out.trim()}", expected ${pkg.version}`);
  });
  await check('cli: npx kimi-vl --help', async () => {
    const out = await npx('--help');
    for (const c of ['doctor', 'run', 'plan'])
      if (!out.includes(c)) throw new Error(`help lacks ${c}:\n${out}`);
  });
  await check('cli: npx kimi-vl doctor', async () => {
    const out = await npx('doctor', '--json');
    const r = JSON.parse(out) as { adapter?: { features?: string[] } };
    if (!Array.isArray(r.adapter?.features)) throw new Error(`no adapter in:\n${out}`);
  });
  await check('cli: npx kimi-vl run (the tiny model from a local folder)', async () => {
    const model = join(REPO, 'public/models/kimi-vl-tiny');
    const out = await npx('run', '--model', model, '--prompt', 'hello', '--max-tokens', '4', '--json');
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; usage?: { completionTokens: number } });
    const done = events.find((e) => e.type === 'done');
    if (!done?.usage?.completionTokens) throw new Error(`no done event with tokens:\n${out}`);
  });
}

/** No tests, demo, sources, maps or models in the tarball; the licenses and every entry point in it. */
async function tarballContents(tarball: string): Promise<void> {
  const files = (await exec('tar', ['tzf', tarball], work)).trim().split('\n');
  const unwanted = files.filter((f) =>
    /\.test\.|\.spec\.|\.map$|^package\/(src|demo|e2e|bench|public|scripts|shaders)\/|\.safetensors$/.test(f),
  );
  if (unwanted.length) throw new Error(`unwanted files:\n${unwanted.join('\n')}`);
  const required = [
    'LICENSE',
    'THIRD_PARTY_NOTICES',
    'bin/kimi-vl.mjs',
    'dist/lib/kimi-vl-web.js',
    'dist/lib/worker.js',
  ];
  required.push(
    'dist/script/kimi-vl.js',
    'dist/types/index.d.ts',
    'dist/cli/main.js',
    'dist/harness/harness.html',
  );
  const missing = required.filter((f) => !files.includes(`package/${f}`));
  if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
}

async function main(): Promise<void> {
  console.log(`consumer: working in ${work}`);
  const tarball =
    givenTarball ??
    (await check('npm pack (builds the package)', async () => {
      const out = await exec('npm', ['pack', '--pack-destination', work, '--loglevel=error'], REPO);
      return join(work, out.trim().split('\n').pop()!.trim());
    }));
  if (tarball) {
    await check('tarball ships only what users run', () => tarballContents(tarball));
    await consumerApp(tarball);
    await installedCli(tarball);
  } else blocked('consumer app and CLI', 'npm pack');
  const failed = results.filter((r) => !r.ok).length;
  mkdirSync(dirname(reportFile), { recursive: true });
  writeFileSync(
    reportFile,
    JSON.stringify({ passed: results.length - failed, failed, checks: results }, null, 2),
  );
  const seconds = results.reduce((s, r) => s + r.seconds, 0);
  console.log(`consumer: ${results.length - failed} passed, ${failed} failed (${seconds.toFixed(0)} s)`);
  if (!failed) rmSync(work, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}

await main();
