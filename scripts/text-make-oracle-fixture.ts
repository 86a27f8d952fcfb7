// Writes src/text/fixtures/oracle-ids.json: a few hundred corpus strings with the ids tiktoken
// (the oracle; WASM, Node only here) gives them on the test vocabulary. The browser test checks our
// tokenizer against it; src/text/oracle_fixture.test.ts checks that it is still what the oracle says.
//
// usage: npx tsx scripts/text-make-oracle-fixture.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer, makeOracle, REPO_ROOT, TEST_VOCAB_DIR } from '../src/text/fixtures/node_helpers.ts';
import { HAND_CASES, randomCorpus } from '../src/text/fixtures/oracle_corpus.ts';

export const ORACLE_FIXTURE_PATH = join(REPO_ROOT, 'src/text/fixtures/oracle-ids.json');

export interface OracleFixture {
  vocab: string;
  cases: Array<{ text: string; ids: number[] }>;
}

/** The fixture's inputs: every hand case, two long repeats and 300 random strings. */
export function fixtureTexts(): string[] {
  return [...HAND_CASES, 'ab'.repeat(1500), `${' '.repeat(2000)}x`, ...randomCorpus(300, 2024)];
}

export function makeOracleFixture(): OracleFixture {
  const tok = loadTokenizer(TEST_VOCAB_DIR);
  const oracle = makeOracle(TEST_VOCAB_DIR, tok);
  try {
    const cases = fixtureTexts().map((text) => ({ text, ids: [...oracle.encode(text, 'all')] }));
    return { vocab: 'src/text/fixtures/test-vocab', cases };
  } finally {
    oracle.free();
  }
}

/** One case per line keeps the file diffable. */
export function formatOracleFixture(f: OracleFixture): string {
  const lines = f.cases.map((c) => `    ${JSON.stringify(c)}`);
  return `{\n  "vocab": ${JSON.stringify(f.vocab)},\n  "cases": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

if (process.argv[1]?.endsWith('text-make-oracle-fixture.ts')) {
  writeFileSync(ORACLE_FIXTURE_PATH, formatOracleFixture(makeOracleFixture()));
  console.log(`wrote ${ORACLE_FIXTURE_PATH}`);
}
