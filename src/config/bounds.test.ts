// The config bounds: every bounded field refuses one past its bound with a ConfigError naming it, the
// real and tiny configs pass, and the tensor count computed without the table equals the table's.
import { describe, expect, it } from 'vitest';
import realConfig from '../../configs/Kimi-VL-A3B-Instruct.config.json';
import tinyConfig from '../../public/models/kimi-vl-tiny/config.json';
import { isKimiVLError } from '../errors.ts';
import { checkTensorsAgainstConfig, type TensorSource } from '../weights/checkpoint.ts';
import { CONFIG_BOUNDS, checkBound, impliedTensorCount, MAX_TENSORS, outOfBound } from './bounds.ts';
import { moeLayerCount, parseConfig, tensorCountInput } from './config.ts';
import { weightTable } from './weight_names.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON edited in place by tests
type Json = Record<string, any>;
const clone = (j: unknown): Json => JSON.parse(JSON.stringify(j));

function configError(json: unknown): Error {
  try {
    parseConfig(json);
  } catch (e) {
    expect(isKimiVLError(e, 'ConfigError'), String(e)).toBe(true);
    return e as Error;
  }
  throw new Error('parseConfig accepted the config');
}

/** A source holding exactly the tensors `json`'s config implies, counting the lookups made in it. */
function sourceFor(json: unknown, naming: 'hf' | 'engine') {
  const shapes = new Map<string, number[]>();
  for (const s of weightTable(parseConfig(json)))
    for (const name of naming === 'hf' ? s.hf : [s.name])
      shapes.set(name, naming === 'hf' ? s.hfShape : s.shape);
  const lookups = { n: 0 };
  const source: TensorSource = {
    naming,
    list: () => [...shapes.keys()],
    has: (n) => {
      lookups.n++;
      return shapes.has(n);
    },
    info: (n) => ({ dtype: 'BF16', shape: shapes.get(n)!, bytes: 2, file: 'x', start: 0, end: 2 }),
    read: () => Promise.reject(new Error('not read')),
  };
  return { source, lookups };
}

describe('config bounds', () => {
  it('the real Kimi-VL-A3B and the tiny config are inside every bound', () => {
    expect(() => parseConfig(realConfig)).not.toThrow();
    expect(() => parseConfig(tinyConfig)).not.toThrow();
  });

  it('num_hidden_layers 1e6 is a ConfigError naming the field, at once', () => {
    const j = clone(tinyConfig);
    j.text_config.num_hidden_layers = 1e6;
    const t0 = performance.now();
    expect(configError(j).message).toMatch(/text_config\.num_hidden_layers must be ≤ 256/);
    // Building the 1e6-layer weight table took minutes and crashed the tab; the refusal is immediate.
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it.each(
    Object.entries(CONFIG_BOUNDS).flatMap(([path, b]) =>
      Object.entries(b).map(([key, bound]) => ({ path, key, bound })),
    ),
  )('$path$key: one past the bound is refused, naming the field', ({ path, key, bound }) => {
    const j = clone(realConfig);
    const parent = path
      .split('.')
      .filter(Boolean)
      .reduce((o: Json, k) => {
        o[k] ??= { type: 'yarn', factor: 4, original_max_position_embeddings: 4096 };
        return o[k];
      }, j);
    parent[key] = bound.max * 2 + 1;
    expect(configError(j).message).toContain(`${path}${key} must be ≤`);
  });

  it('outOfBound / checkBound', () => {
    expect(outOfBound(3, { min: 1, max: 4 })).toBeNull();
    expect(outOfBound(0, { min: 1, max: 4 })).toMatch(/≥ 1/);
    expect(outOfBound(1.5, { min: 1, max: 4 })).toMatch(/integer/);
    expect(outOfBound(0, { min: 0, max: 1, real: true })).toMatch(/> 0/);
    expect(() => checkBound('x.json: n', Number.NaN, { min: 1, max: 2 })).toThrow(
      /x\.json: n must be a number/,
    );
    expect(checkBound('n', 2, { min: 1, max: 2 })).toBe(2);
  });

  it('layers × experts are bounded together (MAX_TENSORS)', () => {
    const j = clone(realConfig);
    j.text_config.num_hidden_layers = 256;
    j.text_config.n_routed_experts = 1024;
    j.text_config.first_k_dense_replace = 0;
    expect(configError(j).message).toMatch(/num_hidden_layers × n_routed_experts imply \d+ tensors/);
    expect(
      impliedTensorCount(
        tensorCountInput(parseConfig(realConfig).vision, parseConfig(realConfig).text),
        'hf',
      ),
    ).toBeLessThan(MAX_TENSORS);
  });
});

describe('impliedTensorCount', () => {
  const variants: Array<[string, Json]> = [
    ['real', clone(realConfig)],
    ['tiny', clone(tinyConfig)],
    [
      'tiny, q_lora',
      { ...clone(tinyConfig), text_config: { ...clone(tinyConfig).text_config, q_lora_rank: 16 } },
    ],
    [
      'tiny, all dense',
      { ...clone(tinyConfig), text_config: { ...clone(tinyConfig).text_config, first_k_dense_replace: 3 } },
    ],
  ];
  it.each(variants)('%s: equals the weight table, in both namings', (_, j) => {
    const c = parseConfig(j);
    const table = weightTable(c);
    const input = tensorCountInput(c.vision, c.text);
    expect(impliedTensorCount(input, 'engine')).toBe(table.length);
    expect(impliedTensorCount(input, 'hf')).toBe(table.reduce((n, s) => n + s.hf.length, 0));
    expect(moeLayerCount(c.text)).toBe(table.filter((s) => s.name.endsWith('moe.router')).length);
  });
});

describe('checkTensorsAgainstConfig before the table', () => {
  it.each(['hf', 'engine'] as const)(
    '%s: a config claiming far more tensors is refused without a lookup',
    (naming) => {
      const { source, lookups } = sourceFor(tinyConfig, naming);
      const big = clone(tinyConfig);
      big.text_config.num_hidden_layers = 200;
      expect(() => checkTensorsAgainstConfig(parseConfig(big), source)).toThrow(
        /config\.json implies \d+ tensors .* but the checkpoint holds \d+/,
      );
      expect(lookups.n).toBe(0);
    },
  );

  it('a matching config passes; one layer more is still named tensor by tensor', () => {
    const { source } = sourceFor(tinyConfig, 'hf');
    expect(() => checkTensorsAgainstConfig(parseConfig(tinyConfig), source)).not.toThrow();
    const more = clone(tinyConfig);
    more.text_config.num_hidden_layers = 4;
    expect(() => checkTensorsAgainstConfig(parseConfig(more), source)).toThrow(
      /missing tensor "language_model\.model\.layers\.3\./,
    );
  });
});
