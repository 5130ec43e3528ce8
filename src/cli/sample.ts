// `softdiff sample`: images from a training checkpoint's EMA (or raw) weights with any sampler:
// a grid PNG plus one PNG per image, in --out (default: beside the checkpoint). The checkpoint is
// loaded and sampled through the one-call API (SoftDiffusion), like the demo and the embed page.
import { mkdir, open, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { writeGridPng, writeSamplePngs } from '../node/png.ts';
import { Progress, type ProgressMode } from '../node/progress.ts';
import { fsError, readSafetensorsFile } from '../node/files.ts';
import { EngineError } from '../gpu/errors.ts';
import { SoftDiffusion } from '../api/soft-diffusion.ts';
import { mixSeed } from '../base/host-rng.ts';
import { decodeCheckpointFile } from '../train/checkpoint-state.ts';
import { MAX_BATCH, MAX_BATCH_BYTES, MAX_LANGEVIN_STEPS, MAX_SAMPLE_GRID_IMAGES, MAX_SAMPLE_IMAGES, MAX_SAMPLER_STEPS } from '../base/limits.ts';
import { intIn, seedValue, usageError, type CliIo } from './args.ts';
import { SAMPLER_CHOICES, samplerKind } from './train.ts';

interface SampleFlags {
  checkpoint: string;
  sampler?: string;
  steps: number;
  count: number;
  batch: number;
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
    .option('--steps <n>', 'sampler steps (NFE; noise levels for langevin)', intIn(1, MAX_SAMPLER_STEPS, 'the most sampler steps'), 50)
    .option('--count <n>', 'number of images', intIn(1, MAX_SAMPLE_IMAGES, 'the most images one command writes'), 16)
    .option('--batch <n>', 'images sampled at once on the GPU (lower it when the GPU runs out of memory)', intIn(1, MAX_BATCH, 'the largest batch'), 16)
    .option('--seed <n>', 'seed of the prior draw and the sampler noise (batch k > 0 uses a seed mixed from it and k)', seedValue, 0)
    .option('--out <folder>', 'output folder (default: <checkpoint folder>/samples-<sampler>-seed<seed>)')
    .addOption(new Option('--weights <which>', 'EMA weights or the raw trained weights').choices(['ema', 'model']).default('ema'))
    .option('--langevin-steps <n>', 'annealed Langevin steps per noise level', intIn(1, MAX_LANGEVIN_STEPS, 'the most steps per level'), 100)
    .option('--clip', 'clip x0hat to the data range [0, 1] after every network evaluation (not in the paper)', false)
    .addOption(new Option('--progress <mode>', 'progress display').choices(['bar', 'lines', 'off']))
    .action(async (f: SampleFlags, cmd: Command) => {
      await runSample(f, cmd, io);
    });
}

async function runSample(f: SampleFlags, cmd: Command, io: CliIo): Promise<void> {
  const bytes = await readSafetensorsFile(f.checkpoint, 'checkpoint (--checkpoint)');
  // Read the stored options first (cheap, no GPU) so that a bad --batch or --out is refused before any planning or sampling.
  const o = decodeCheckpointFile(bytes, f.checkpoint).fields.options;
  const kind = f.sampler ? samplerKind(f.sampler) : o.sampler;
  const out = f.out ?? join(dirname(f.checkpoint), `samples-${kind}-seed${f.seed}`);
  // The same number of images in every batch (the fewest batches of at most --batch), so one plan serves all.
  const batches = Math.ceil(f.count / f.batch);
  const per = Math.ceil(f.count / batches);
  const imageBytes = 4 * o.model.inChannels * o.model.imageSize ** 2;
  if (per * imageBytes > MAX_BATCH_BYTES) usageError(cmd, `--batch ${f.batch}: ${per} images of ${o.model.inChannels}x${o.model.imageSize}x${o.model.imageSize} take more than ${MAX_BATCH_BYTES} bytes; use a smaller --batch.`);
  const created = await prepareOutputFolder(out); // before any sampling: a bad --out must not waste the run
  const gpu = await createNodeGpu();
  let model: SoftDiffusion | null = null;
  let ok = false;
  try {
    model = await SoftDiffusion.fromCheckpoint(gpu, bytes, {
      name: f.checkpoint,
      weights: f.weights,
      count: per,
      steps: f.steps,
      sampler: kind,
      langevinSteps: f.langevinSteps,
    });
    const clip = f.clip ? ([0, 1] as const) : undefined;
    const plan = await model.plan({ clip });
    io.err(`softdiff sample: ${f.count} images in ${batches} batch${batches === 1 ? '' : 'es'} of ${per}, ${plan.sampler} sampler${clip ? ' (x0hat clipped to [0, 1])' : ''}, ${plan.nfe} network evaluations each, step ${model.info.step} ${f.weights} weights -> ${out}\n`);
    const progress = new Progress({ total: plan.nfe * batches, label: 'sample', mode: f.progress, stream: io.progress });
    const [c, h, w] = model.info.imageShape;
    const gridCount = Math.min(f.count, MAX_SAMPLE_GRID_IMAGES);
    const grid = new Float32Array(gridCount * c * h * w);
    const digits = Math.max(4, String(f.count - 1).length);
    try {
      for (let k = 0; k < batches; k++) {
        const first = k * per;
        const n = Math.min(per, f.count - first);
        const result = await model.sample({ seed: k === 0 ? f.seed : mixSeed(f.seed, k), clip, onProgress: (done) => progress.update(k * plan.nfe + done) });
        const images = result.images.subarray(0, n * c * h * w);
        try {
          await writeSamplePngs(out, images, [n, c, h, w], 'sample', first, digits);
        } catch (e) {
          throw fsError(e, 'write the samples', out, 'Check that --out is writable and the disk has space.');
        }
        if (first < gridCount) grid.set(images.subarray(0, Math.min(n, gridCount - first) * c * h * w), first * c * h * w);
      }
    } finally {
      progress.stop();
    }
    const gridFile = join(out, 'grid.png');
    try {
      await writeGridPng(gridFile, grid, [gridCount, c, h, w]);
    } catch (e) {
      throw fsError(e, 'write the grid', gridFile, 'Check that --out is writable and the disk has space.');
    }
    io.out(`${gridFile}\n`);
    ok = true;
  } finally {
    if (!ok && created) await rmdir(out).catch(() => {}); // only when still empty: images already written stay
    model?.destroy();
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}

/** Create --out and prove it writable (a probe file), with a message naming the flag when it is not; true when it was created. */
async function prepareOutputFolder(out: string): Promise<boolean> {
  const s = await stat(out).catch(() => null);
  if (s && !s.isDirectory()) throw new EngineError(`The output folder ${out} (--out) is a file, not a folder.`, 'Pass a folder path with --out.');
  const probe = join(out, `.softdiff-probe.${process.pid}.tmp`);
  try {
    await mkdir(out, { recursive: true });
    await (await open(probe, 'w')).close();
    await unlink(probe);
  } catch (e) {
    if (!s) await rmdir(out).catch(() => {});
    throw fsError(e, 'write into the output folder (--out)', out, 'Choose a writable folder with --out.');
  }
  return !s;
}
