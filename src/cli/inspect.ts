// `kimi-vl inspect <checkpoint folder or URL>`: validates a checkpoint with exactly the code the
// browser loader uses (configs, index or manifest, every safetensors header, shapes vs config.json)
// and prints a summary, or the typed error and a non-zero exit code. Reads headers only: over HTTP
// a few Range requests per shard.
import type { CheckpointFiles } from '../weights/checkpoint.ts';
import { openCheckpoint } from '../weights/checkpoint.ts';
import { nodeFiles } from '../weights/node_source.ts';
import { formatSummary, summarizeCheckpoint } from '../weights/summary.ts';
import { urlFiles } from '../weights/url_files.ts';
import { flag, parseArgs } from './args.ts';
import type { CliCommand } from './command.ts';

export function filesFor(location: string): CheckpointFiles {
  return /^https?:\/\//i.test(location) ? urlFiles(location) : nodeFiles(location);
}

export const command: CliCommand = {
  summary: 'Validate a Kimi-VL checkpoint (folder or URL; Hugging Face or converted) and summarise it',
  usage: 'kimi-vl inspect <checkpoint folder | http(s) URL> [--verify-sha256] [--json]',
  async run(args) {
    const p = parseArgs(args, { 'verify-sha256': 'boolean', json: 'boolean' });
    const location = p.positional[0];
    if (!location || p.positional.length > 1) {
      console.error(`usage: ${command.usage}`);
      return 2;
    }
    const ck = await openCheckpoint(filesFor(location), {
      verifySha256: flag(p, 'verify-sha256') === 'true',
    });
    const summary = summarizeCheckpoint(ck, location);
    console.log(flag(p, 'json') === 'true' ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    return 0;
  },
};
