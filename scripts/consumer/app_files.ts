// The files of the throwaway consumer app: what a web developer writes after `npm create vite` (vanilla
// TypeScript) and `npm i kimi-vl-web`. tsconfig is Vite's template's, strict and with skipLibCheck off, so
// our .d.ts (and @webgpu/types through them) must type-check as a user's compiler sees them.

export interface AppVersions {
  tarball: string;
  vite: string;
  typescript: string;
}

export const MODEL_PATH = 'models/kimi-vl-tiny/';

export function appFiles(v: AppVersions): Record<string, string> {
  return {
    'package.json': JSON.stringify(
      {
        name: 'kimi-vl-consumer-app',
        private: true,
        type: 'module',
        dependencies: { 'kimi-vl-web': `file:${v.tarball}` },
        devDependencies: { typescript: v.typescript, vite: v.vite },
      },
      null,
      2,
    ),
    'tsconfig.json': JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          useDefineForClassFields: true,
          module: 'ESNext',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: ['vite/client'],
          skipLibCheck: false,
          moduleResolution: 'bundler',
          allowImportingTsExtensions: true,
          verbatimModuleSyntax: true,
          moduleDetection: 'force',
          noEmit: true,
          strict: true,
          noUnusedLocals: true,
          noUnusedParameters: true,
          noFallthroughCasesInSwitch: true,
        },
        include: ['src'],
      },
      null,
      2,
    ),
    'index.html': [
      '<!doctype html>',
      '<html lang="en">',
      '  <head><meta charset="UTF-8" /><title>consumer</title></head>',
      '  <body>',
      '    <pre id="out">loading</pre>',
      '    <script type="module" src="/src/main.ts"></script>',
      '  </body>',
      '</html>',
      '',
    ].join('\n'),
    // The app's own worker file, the portable pattern: any bundler follows `new Worker(new URL('./x', import.meta.url))`.
    'src/engine_worker.ts': "import 'kimi-vl-web/worker';\n",
    'src/main.ts': `import { type ChatEvent, KimiVL, type LoadOptions } from 'kimi-vl-web';

interface Run {
  mode: 'worker' | 'main-thread';
  tokens: number;
  text: string;
}

async function run(options: LoadOptions): Promise<Run> {
  const engine = await KimiVL.load('./${MODEL_PATH}', { contextBudget: 128, ...options });
  let tokens = 0;
  let text = '';
  const events: AsyncIterable<ChatEvent> = engine.chat([{ role: 'user', content: 'hello' }], {
    maxTokens: 4,
    temperature: 0,
    ignoreStop: true,
    tokenEvents: true,
  });
  for await (const e of events) {
    if (e.type === 'token') tokens++;
    if (e.type === 'answer') text += e.text;
  }
  const mode = engine.mode;
  await engine.unload();
  return { mode, tokens, text };
}

async function main(): Promise<Record<string, Run | string>> {
  const report: Record<string, Run | string> = {};
  const attempt = async (name: string, options: () => LoadOptions) => {
    try {
      report[name] = await run(options());
    } catch (e) {
      report[name] = \`\${(e as Error).name}: \${(e as Error).message}\`;
    }
  };
  // The default: the worker that ships beside the library, emitted by the app's bundler.
  await attempt('default', () => ({}));
  // The worker option, with the package's worker entry named directly ...
  await attempt('packageWorker', () => ({
    worker: new Worker(new URL('kimi-vl-web/worker', import.meta.url), { type: 'module' }),
  }));
  // ... and through the app's own worker module.
  await attempt('appWorker', () => ({
    worker: new Worker(new URL('./engine_worker.ts', import.meta.url), { type: 'module' }),
  }));
  return report;
}

main().then((report) => {
  document.getElementById('out')!.textContent = JSON.stringify(report, null, 2);
  (window as unknown as { report: unknown }).report = report;
});
`,
  };
}
