// `softdiff sample`: images from a training checkpoint's EMA (or raw) weights with any sampler:
// a grid PNG plus one PNG per image, in --out (default: beside the checkpoint).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { writeGridPng, writeSamplePngs } from '../node/png.ts';
import { Progress, type ProgressMode } from '../node/progress.ts';
import { EngineError } from '../gpu/errors.ts';
import { UNetGraph } from '../nn/unet-graph.ts';
import { Schedule } from '../diffusion/schedule.ts';
import { decodeCheckpointFile, stateForLayout } from '../train/checkpoint-state.ts';
import { corruptionFromJSON } from '../train/options.ts';
import { SampleRun } from '../sample/sample-run.ts';
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
  clip: boolean;
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
    .option('--clip', 'clip x0hat to the data range [0, 1] after every network evaluation (not in the paper)', false)
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
  const ckpt = decodeCheckpointFile(bytes, f.checkpoint);
  const o = ckpt.fields.options;
  const graph = new UNetGraph(o.model, { batch: 1, training: false });
  const state = stateForLayout(ckpt, graph.graph.params);
  const kind = f.sampler ? samplerKind(f.sampler) : o.sampler;
  const out = f.out ?? join(dirname(f.checkpoint), `samples-${kind}-seed${f.seed}`);
  const gpu = await createNodeGpu();
  let run: SampleRun | null = null;
  try {
    run = await SampleRun.create(gpu, {
      config: o.model,
      weights: state.flat[f.weights],
      corruption: corruptionFromJSON(o.corruption),
      noise: Schedule.fromJSON(o.noise),
      priorBank: state.priorBank,
      count: f.count,
      steps: f.steps,
      sampler: kind,
      langevinStepsPerLevel: f.langevinSteps,
      clip: f.clip ? [0, 1] : undefined,
    });
    io.err(`softdiff sample: ${f.count} images, ${kind} sampler${f.clip ? ' (x0hat clipped to [0, 1])' : ''}, ${run.nfe} network evaluations, step ${ckpt.fields.step} ${f.weights} weights -> ${out}\n`);
    const progress = new Progress({ total: run.nfe, label: 'sample', mode: f.progress, stream: io.progress });
    const result = await run.run(f.seed, (done) => progress.update(done));
    progress.stop();
    const grid = join(out, 'grid.png');
    await writeSamplePngs(out, result.images, result.shape);
    await writeGridPng(grid, result.images, result.shape);
    io.out(`${grid}\n`);
  } finally {
    run?.destroy();
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}
