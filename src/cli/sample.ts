// `softdiff sample`: images from a training checkpoint's EMA (or raw) weights with any sampler:
// a grid PNG plus one PNG per image, in --out (default: beside the checkpoint). The checkpoint is
// loaded and sampled through the one-call API (SoftDiffusion), like the demo and the embed page.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { writeGridPng, writeSamplePngs } from '../node/png.ts';
import { Progress, type ProgressMode } from '../node/progress.ts';
import { EngineError } from '../gpu/errors.ts';
import { SoftDiffusion } from '../api/soft-diffusion.ts';
import { positiveInt, seedValue, type CliIo } from './args.ts';
import { SAMPLER_CHOICES, samplerKind } from './train.ts';

interface SampleFlags {
  checkpoint: string;
  sampler?: string;
  steps: number;
  count: number;
  seed: number;
  out?: string;
  weights: 'ema' | 'model';
  langevinSteps: number;
  progress?: ProgressMode;
}

export function sampleCommand(io: CliIo): Command {
  return new Command('sample')
    .description('sample images from a training checkpoint: a grid PNG and one PNG per image')
    .requiredOption('--checkpoint <file>', 'checkpoint.safetensors written by `softdiff train`')
    .addOption(new Option('--sampler <kind>', "sampler (pf = probability-flow; default: the checkpoint's preview sampler)").choices(SAMPLER_CHOICES))
    .option('--steps <n>', 'sampler steps (NFE; noise levels for langevin)', positiveInt, 50)
    .option('--count <n>', 'number of images', positiveInt, 16)
    .option('--seed <n>', 'seed of the prior draw and the sampler noise', seedValue, 0)
    .option('--out <folder>', 'output folder (default: <checkpoint folder>/samples-<sampler>-seed<seed>)')
    .addOption(new Option('--weights <which>', 'EMA weights or the raw trained weights').choices(['ema', 'model']).default('ema'))
    .option('--langevin-steps <n>', 'annealed Langevin steps per noise level', positiveInt, 100)
    .addOption(new Option('--progress <mode>', 'progress display').choices(['bar', 'lines', 'off']))
    .action(async (f: SampleFlags) => {
      await runSample(f, io);
    });
}

async function runSample(f: SampleFlags, io: CliIo): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(f.checkpoint));
  } catch (e) {
    throw new EngineError(`Cannot read checkpoint ${f.checkpoint}: ${(e as Error).message}`, 'Check the path.');
  }
  const gpu = await createNodeGpu();
  let model: SoftDiffusion | null = null;
  try {
    model = await SoftDiffusion.fromCheckpoint(gpu, bytes, {
      name: f.checkpoint,
      weights: f.weights,
      count: f.count,
      steps: f.steps,
      sampler: f.sampler ? samplerKind(f.sampler) : undefined,
      langevinSteps: f.langevinSteps,
    });
    const plan = await model.plan();
    const out = f.out ?? join(dirname(f.checkpoint), `samples-${plan.sampler}-seed${f.seed}`);
    io.err(`softdiff sample: ${f.count} images, ${plan.sampler} sampler, ${plan.nfe} network evaluations, step ${model.info.step} ${f.weights} weights -> ${out}\n`);
    const progress = new Progress({ total: plan.nfe, label: 'sample', mode: f.progress, stream: io.progress });
    const result = await model.sample({ seed: f.seed, onProgress: (done) => progress.update(done) });
    progress.stop();
    const grid = join(out, 'grid.png');
    await writeSamplePngs(out, result.images, result.shape);
    await writeGridPng(grid, result.images, result.shape);
    io.out(`${grid}\n`);
  } finally {
    model?.destroy();
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}
