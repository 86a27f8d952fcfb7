// The committed fixture the browser test uses must still be exactly what tiktoken says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  makeOracleFixture,
  ORACLE_FIXTURE_PATH,
  type OracleFixture,
} from '../../scripts/text-make-oracle-fixture.ts';
import { loadTokenizer, TEST_VOCAB_DIR } from './fixtures/node_helpers.ts';

describe('oracle-ids.json fixture', () => {
  const committed = readFileSync(ORACLE_FIXTURE_PATH, 'utf8');

  it('is what tiktoken gives today (regenerate with scripts/text-make-oracle-fixture.ts)', () => {
    // Compared parsed: the formatter (biome) may re-layout the committed file.
    expect(JSON.parse(committed)).toEqual(makeOracleFixture());
    expect(committed.length).toBeLessThan(300_000);
  });

  it('our tokenizer agrees with every case', () => {
    const tok = loadTokenizer(TEST_VOCAB_DIR);
    const fixture = JSON.parse(committed) as OracleFixture;
    expect(fixture.cases.length).toBeGreaterThanOrEqual(300);
    for (const { text, ids } of fixture.cases) expect(tok.encode(text), JSON.stringify(text)).toEqual(ids);
  });
});
