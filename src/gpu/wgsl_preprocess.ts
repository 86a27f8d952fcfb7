// A tiny WGSL preprocessor: #include "file", #ifdef / #ifndef / #if NAME / #else / #endif.
// Variants that change declarations (packed vs shader-f16 storage, optional bindings) use it; numeric
// knobs are WGSL `override` constants instead, so they never fork the source.
import { KimiVLError } from '../errors.ts';

export type Defines = Readonly<Record<string, boolean | number | string>>;
export type IncludeResolver = (name: string) => string | undefined;

const DIRECTIVE = /^\s*#(include|ifdef|ifndef|if|else|endif)\b\s*(.*?)\s*$/;

export function preprocessWgsl(
  source: string,
  defines: Defines,
  resolve: IncludeResolver,
  depth = 0,
): string {
  if (depth > 8)
    throw new KimiVLError('ShaderCompileError', 'WGSL #include nesting deeper than 8 (a cycle?)');
  const out: string[] = [];
  // Stack of [this branch active, some branch of this #if already taken].
  const stack: Array<{ active: boolean; taken: boolean; parentActive: boolean }> = [];
  const active = () => stack.every((s) => s.active);
  const lines = source.split('\n');
  lines.forEach((line, i) => {
    const m = DIRECTIVE.exec(line);
    if (!m) {
      if (active()) out.push(line);
      return;
    }
    const [, kind, arg] = m;
    const truthy = (name: string) => {
      const v = defines[name];
      return v !== undefined && v !== false && v !== 0 && v !== '';
    };
    switch (kind) {
      case 'include': {
        if (!active()) return;
        const name = arg!.replace(/^["<]|[">]$/g, '');
        const text = resolve(name);
        if (text === undefined)
          throw new KimiVLError('ShaderCompileError', `WGSL #include "${name}" not found (line ${i + 1})`);
        out.push(preprocessWgsl(text, defines, resolve, depth + 1));
        return;
      }
      case 'ifdef':
      case 'ifndef':
      case 'if': {
        const parentActive = active();
        const cond =
          kind === 'ifndef'
            ? defines[arg!] === undefined
            : kind === 'ifdef'
              ? defines[arg!] !== undefined
              : truthy(arg!);
        stack.push({ active: cond, taken: cond, parentActive });
        return;
      }
      case 'else': {
        const top = stack[stack.length - 1];
        if (!top) throw new KimiVLError('ShaderCompileError', `WGSL #else without #if (line ${i + 1})`);
        top.active = !top.taken;
        top.taken = true;
        return;
      }
      case 'endif':
        if (!stack.pop())
          throw new KimiVLError('ShaderCompileError', `WGSL #endif without #if (line ${i + 1})`);
        return;
    }
  });
  if (stack.length) throw new KimiVLError('ShaderCompileError', 'WGSL #if without #endif');
  return out.join('\n');
}
