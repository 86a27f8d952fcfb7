// Shared WGSL helpers (shaders/common/*.wgsl) for `#include "common/<file>.wgsl"`, bundled by Vite.
const COMMON = import.meta.glob('../../shaders/common/*.wgsl', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

export function resolveShaderInclude(name: string): string | undefined {
  return COMMON[`../../shaders/${name}`];
}
