// `softdiff bench`: the benchmark runner (bench/node.ts) under the CLI: `softdiff bench unet --preset=mnist`.
import { Command } from 'commander';

export function benchCommand(): Command {
  return new Command('bench')
    .description('run benchmarks: softdiff bench <name|all|help> [--key=value ...] (JSON lines on stdout)')
    .argument('[args...]', 'benchmark names and --key=value options')
    .allowUnknownOption(true)
    .helpOption('-h, --help', 'show this help (`softdiff bench help` lists the benchmarks)')
    .action(async (args: string[]) => {
      const { main } = await import('../../bench/node.ts');
      await main(args.length ? args : ['help']);
    });
}
