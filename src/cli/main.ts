// The `softdiff` command line. Subcommands are added by src/cli/*.ts; see `softdiff --help`.
import { Command } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('softdiff').description('Soft Diffusion on WebGPU: train and sample diffusion models on the GPU.');
  program
    .command('info')
    .description('print the WebGPU adapter, its features and limits as JSON')
    .action(async () => {
      const gpu = await createNodeGpu();
      const limits: Record<string, number> = {};
      for (const k in gpu.limits) limits[k] = (gpu.limits as unknown as Record<string, number>)[k]!;
      console.log(JSON.stringify({ adapter: gpu.adapter, features: gpu.features, limits }, null, 2));
      gpu.destroy();
      releaseNodeGpu();
    });
  await program.parseAsync(argv, { from: 'user' });
}
