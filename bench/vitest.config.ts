// Node tests of the benchmark's pure parts (ONNX encoder, byte accounting, report). Run:
//   npx vitest run --config bench/vitest.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['bench/**/*.test.ts'], environment: 'node', root: '.' },
});
