// `kimi-vl convert <hf-checkpoint-dir> <out-dir> --quant q4|q8|f16`: writes the kimi-vl-web converted
// format (src/weights/manifest.ts) tensor by tensor, printing progress as it goes.
import { KimiVLError } from '../errors.ts';
import { convertCheckpoint, DEFAULT_SHARD_BYTES } from '../weights/convert_node.ts';
import type { ConvertQuant } from '../weights/manifest.ts';
import { formatBytes } from '../weights/summary.ts';
import { flag, parseArgs } from './args.ts';
import type { CliCommand } from './command.ts';

/** "1000000", "512k", "64M", "1G" (binary multiples) → bytes. */
export function parseByteSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?$/.exec(s.trim());
  const n = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()) : Number.NaN;
  if (!Number.isFinite(n) || n < 1)
    throw new KimiVLError(
      'ConfigError',
      `--shard-size expects a size such as 1G, 500M or 200000, got "${s}"`,
    );
  return Math.floor(n);
}

export const command: CliCommand = {
  summary: 'Convert a Hugging Face Kimi-VL checkpoint to the kimi-vl-web format (q4, q8 or f16)',
  usage:
    'kimi-vl convert <hf-checkpoint-dir> <out-dir> --quant q4|q8|f16 [--shard-size 1G] [--force] [--quiet]',
  async run(args) {
    const p = parseArgs(args, {
      quant: 'string',
      'shard-size': 'string',
      force: 'boolean',
      quiet: 'boolean',
    });
    const [src, out] = p.positional;
    const quant = flag(p, 'quant');
    if (!src || !out || p.positional.length > 2 || !quant) {
      console.error(`usage: ${command.usage}`);
      return 2;
    }
    if (quant !== 'q4' && quant !== 'q8' && quant !== 'f16')
      throw new KimiVLError('ConfigError', `--quant must be q4, q8 or f16, got "${quant}"`);
    const shardSize = flag(p, 'shard-size');
    const quiet = flag(p, 'quiet') === 'true';
    const m = await convertCheckpoint(src, out, {
      quant: quant as ConvertQuant,
      shardBytes: shardSize ? parseByteSize(shardSize) : DEFAULT_SHARD_BYTES,
      force: flag(p, 'force') === 'true',
      onProgress: quiet
        ? undefined
        : (g) => {
            const rate = g.seconds > 0 ? g.bytesDone / 1e6 / g.seconds : 0;
            console.log(
              `[${g.index}/${g.count}] ${g.name} ${g.dtype} ${formatBytes(g.bytes)}  ` +
                `${formatBytes(g.bytesDone)}/${formatBytes(g.bytesTotal)}  ${rate.toFixed(1)} MB/s`,
            );
          },
    });
    const total = m.shards.reduce((a, s) => a + s.bytes, 0);
    console.log(
      `wrote ${m.tensors.length} tensors in ${m.shards.length} shard(s), ${formatBytes(total)}, quant ${m.quant} → ${out}`,
    );
    return 0;
  },
};
