// `softdiff train`: train a Soft Diffusion model and write, into --out (default runs/<data>):
//   checkpoint.safetensors   the whole training state (atomic writes; resumable with --resume)
//   loss.jsonl               {step, loss, lr, elapsed} every --log-every steps
//   samples/step-NNNNNN.png  preview grids (EMA weights, --sampler: naive by default) every --sample-every steps
//   samples/latest.png       the newest grid
//   options.json             the resolved options of the run
// With no options it trains the `mnist` preset on MNIST with blur + noise (the main job).
import { readFile, mkdir, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { loadDataset } from '../node/datasets.ts';
import { writeFileAtomic } from '../node/checkpoint.ts';
import { writeGridPng } from '../node/png.ts';
import { Progress, type ProgressMode } from '../node/progress.ts';
import { JsonlLog } from '../node/jsonl-log.ts';
import { EngineError, NonFiniteError, ValueError } from '../gpu/errors.ts';
import { PRESETS, type PresetName, type UNetConfig } from '../nn/config.ts';
import { Schedule, defaultNoiseSchedule, type ScheduleJSON } from '../diffusion/schedule.ts';
import { Trainer } from '../train/trainer.ts';
import { decodeCheckpointFile } from '../train/checkpoint-state.ts';
import { CORRUPTIONS, LOSSES, WEIGHTINGS, type TrainerOptions } from '../train/options.ts';
import type { SamplerKind } from '../diffusion/samplers.ts';
import { jsonObject, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, seedValue, unitInterval, type CliIo } from './args.ts';

/**
 * The main job's defaults: MNIST, `mnist` preset, sized to finish in about 20 minutes on an idle 2-core
 * CPU (lavapipe, ~0.84 s per step at batch 16, ~10 s per preview grid). Previews use the naive sampler:
 * after minutes of training the network's x0hat is still inaccurate at the mid-frequencies the blur is
 * removing, and the momentum sampler, which carries x_t forward (factor rho = sigma_{t-dt}^2 / sigma_t^2
 * ~ 0.91 per step), amplifies that error into speckled stroke fragments (the blur level moves ~3x faster
 * in log scale than the noise level), whereas the naive sampler re-blurs x0hat every step and gives
 * recognisable digits. `--sampler momentum` remains available for longer-trained models.
 */
export const MAIN_JOB = { data: 'mnist', preset: 'mnist', steps: 1200, batch: 16, lr: 2e-3, warmup: 50, sampleEvery: 400, checkpointEvery: 100, sampler: 'naive' } as const;

export const SAMPLER_CHOICES = ['momentum', 'pf', 'probability-flow', 'naive', 'langevin'] as const;
export const samplerKind = (s: string): SamplerKind => (s === 'pf' ? 'probability-flow' : (s as SamplerKind));

interface TrainFlags {
  data: string;
  size?: number;
  length?: number;
  preset: string;
  width?: number;
  model?: Record<string, unknown>;
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  clip: number;
  ema: number;
  weightDecay: number;
  corruption: string;
  blurSchedule?: string;
  noiseMin?: number;
  noiseMax?: number;
  loss: string;
  weighting: string;
  stratified: boolean;
  flip: boolean;
  seed: number;
  out?: string;
  resume?: string;
  sampleEvery: number;
  sampleCount: number;
  sampleSteps: number;
  sampler: string;
  checkpointEvery: number;
  logEvery: number;
  progress?: ProgressMode;
}

export function trainCommand(io: CliIo): Command {
  return new Command('train')
    .description('train a Soft Diffusion model; with no options: the mnist preset on MNIST with blur + noise, into runs/mnist')
    .option('--data <name|folder>', 'data set: mnist, emoji, blobs, stripes, or a folder of PNG/JPEG images', MAIN_JOB.data)
    .option('--size <px>', 'image size (mnist: 32; emoji: 16, 20, 32, 64; others: any)', positiveInt)
    .option('--length <n>', 'number of images of a synthetic data set (blobs, stripes)', positiveInt)
    .addOption(new Option('--preset <name>', 'U-Net preset').choices(Object.keys(PRESETS)).default(MAIN_JOB.preset))
    .option('--width <n>', 'U-Net base channels (overrides the preset)', positiveInt)
    .option('--model <json>', 'U-Net config overrides as JSON, e.g. \'{"channelMults":[1,2],"groups":4}\'', jsonObject)
    .option('--steps <n>', 'total training steps (a resumed run continues up to this step)', positiveInt, MAIN_JOB.steps)
    .option('--batch <n>', 'batch size', positiveInt, MAIN_JOB.batch)
    .option('--lr <x>', 'peak learning rate (AdamW)', positiveNumber, MAIN_JOB.lr)
    .option('--warmup <n>', 'linear learning-rate warmup steps', nonNegativeInt, MAIN_JOB.warmup)
    .option('--clip <x>', 'global gradient-norm clip (0: off)', nonNegativeNumber, 1)
    .option('--ema <x>', 'EMA decay of the weights used for sampling', unitInterval, 0.995)
    .option('--weight-decay <x>', 'AdamW weight decay', nonNegativeNumber, 0)
    .addOption(new Option('--corruption <kind>', 'corruption C_t').choices(CORRUPTIONS).default('blur'))
    .option('--blur-schedule <file>', 'sigmaB(t) as JSON (the output of `softdiff schedule`)')
    .option('--noise-min <x>', 'noise std sigma(0) of the geometric noise schedule (data in [0, 1]; default 0.01)', positiveNumber)
    .option('--noise-max <x>', 'noise std sigma(1) of the geometric noise schedule (default 0.1 for blur and mask, 50 for identity)', positiveNumber)
    .addOption(new Option('--loss <kind>', 'training loss').choices(LOSSES).default('soft'))
    .addOption(new Option('--weighting <w>', 'loss weight w(t)').choices(WEIGHTINGS).default('uniform'))
    .option('--no-stratified', 'draw t i.i.d. instead of one per stratum of the batch')
    .option('--flip', 'random left-right flips', false)
    .option('--seed <n>', 'seed of everything random', seedValue, 0)
    .option('--out <folder>', 'output folder (default runs/<data>)')
    .option('--resume <checkpoint>', 'continue a run from its checkpoint (options come from the file)')
    .option('--sample-every <n>', 'preview grid every n steps (0: only at the end)', nonNegativeInt, MAIN_JOB.sampleEvery)
    .option('--sample-count <n>', 'images in a preview grid', positiveInt, 16)
    .option('--sample-steps <n>', 'sampler steps for previews', positiveInt, 50)
    .addOption(new Option('--sampler <kind>', 'sampler for previews').choices(SAMPLER_CHOICES).default(MAIN_JOB.sampler))
    .option('--checkpoint-every <n>', 'checkpoint every n steps (0: only at the end)', nonNegativeInt, MAIN_JOB.checkpointEvery)
    .option('--log-every <n>', 'read the loss back every n steps', positiveInt, 10)
    .addOption(new Option('--progress <mode>', 'progress display (default: bar on a terminal, else lines)').choices(['bar', 'lines', 'off']))
    .action(async (flags: TrainFlags, cmd: Command) => {
      await runTrain(flags, cmd, io);
    });
}

function given(cmd: Command, name: string): boolean {
  return cmd.getOptionValueSource(name) === 'cli';
}

async function runTrain(f: TrainFlags, cmd: Command, io: CliIo): Promise<void> {
  const resumeBytes = f.resume ? await readBytes(f.resume) : null;
  const ckpt = resumeBytes ? decodeCheckpointFile(resumeBytes, f.resume) : null;
  if (ckpt) {
    const ignored = ['preset', 'width', 'model', 'batch', 'lr', 'warmup', 'clip', 'ema', 'weightDecay', 'corruption', 'blurSchedule', 'noiseMin', 'noiseMax', 'loss', 'weighting', 'stratified', 'flip', 'seed', 'sampleCount', 'sampleSteps', 'sampler', 'logEvery', 'size', 'length'].filter((k) => given(cmd, k));
    if (ignored.length) io.err(`softdiff: resuming ${f.resume}: the run's options come from the checkpoint; ignoring ${ignored.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}.\n`);
  }
  const dataSpec = ckpt && !given(cmd, 'data') ? datasetSpecOf(ckpt.fields.dataset.name) : f.data;
  const size = ckpt ? ckpt.fields.dataset.size : f.size;
  const warnings: string[] = [];
  const dataset = await loadDataset(dataSpec, { size, length: ckpt ? ckpt.fields.dataset.length : f.length, onWarning: (m) => warnings.push(m) });
  for (const w of warnings) io.err(`warning: ${w}\n`);
  const out = f.out ?? join('runs', dataSpec.replace(/^folder:/, '').replace(/[\\/]+$/, '').split(/[\\/]/).pop() || 'run');
  await mkdir(join(out, 'samples'), { recursive: true });

  const gpu = await createNodeGpu();
  let trainer: Trainer | null = null;
  const log = new JsonlLog(join(out, 'loss.jsonl'));
  try {
    trainer = ckpt ? await Trainer.fromCheckpoint(gpu, dataset, ckpt) : await Trainer.create(gpu, dataset, await trainerOptions(f, dataset.size));
    const o = trainer.options;
    await writeFile(join(out, 'options.json'), `${JSON.stringify({ dataset: dataset.name, images: dataset.length, ...o }, null, 2)}\n`);
    const remaining = f.steps - trainer.currentStep;
    io.err(
      `softdiff train: ${dataset.name} (${dataset.length} images ${dataset.channels}x${dataset.size}x${dataset.size}), U-Net ${trainer.net.parameterCount.toLocaleString('en')} parameters, ` +
        `batch ${o.batch}, ${o.corruption.name} + noise ${describeNoise(o.noise)}, ${o.loss} loss, adapter ${gpu.adapter.key}; ` +
        `${ckpt ? `resuming at step ${trainer.currentStep}, ` : ''}${Math.max(0, remaining)} steps -> ${out}\n`,
    );
    if (remaining <= 0) {
      io.err(`softdiff train: the checkpoint is already at step ${trainer.currentStep} >= --steps ${f.steps}; nothing to do.\n`);
      return;
    }
    const progress = new Progress({ total: f.steps, label: 'train', mode: f.progress, stream: io.progress });
    progress.update(trainer.currentStep);
    const ckptPath = join(out, 'checkpoint.safetensors');
    try {
      await trainer.run(remaining, {
        onStep: (r) => progress.update(r.step, r.loss !== undefined ? { loss: r.loss } : undefined),
        onLog: (r) => log.append({ ...r }),
        sampleEvery: f.sampleEvery,
        onSample: async (s) => {
          const file = join(out, 'samples', `step-${String(s.step).padStart(6, '0')}.png`);
          await writeGridPng(file, s.images, s.shape);
          await copyFile(file, join(out, 'samples', 'latest.png'));
        },
        checkpointEvery: f.checkpointEvery,
        onCheckpoint: (bytes) => writeFileAtomic(ckptPath, bytes),
      });
    } finally {
      progress.stop();
    }
    io.err(`softdiff train: done at step ${trainer.currentStep}, loss ${trainer.loss?.toPrecision(4) ?? '?'}; checkpoint ${ckptPath}, samples ${join(out, 'samples', 'latest.png')}\n`);
  } catch (e) {
    if (e instanceof NonFiniteError) io.err(`softdiff train: stopped. Checkpoint kept: ${join(out, 'checkpoint.safetensors')}${trainer?.lastCheckpointStep != null ? ` (step ${trainer.lastCheckpointStep})` : ' (none written in this run)'}.\n`);
    throw e;
  } finally {
    log.close();
    trainer?.destroy();
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}

/** 'folder:cats' names the folder's base name only: the path must be given again with --data. */
function datasetSpecOf(name: string): string {
  if (name.startsWith('folder:')) throw new ValueError(`The checkpoint was trained on the image folder '${name.slice(7)}'.`, 'Pass its path with --data when resuming.');
  return name.replace(/-\d+$/, '') || name;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new EngineError(`Cannot read ${path}: ${(e as Error).message}`, 'Check the path.');
  }
}

function describeNoise(n: ScheduleJSON): string {
  return n.kind === 'geometric' ? `${n.min}..${n.max}` : `${n.values[0]}..${n.values[n.values.length - 1]} (piecewise)`;
}

/** --noise-min / --noise-max: a geometric sigma(t); the flag not given keeps the corruption's default end. */
function noiseSchedule(f: TrainFlags): ScheduleJSON {
  const d = defaultNoiseSchedule(f.corruption).toJSON();
  if (d.kind !== 'geometric') throw new ValueError('The default noise schedule is not geometric.');
  const min = f.noiseMin ?? d.min; // the JSON's exact ends (Schedule.at(0) rounds through exp/log)
  const max = f.noiseMax ?? d.max;
  if (max < min) throw new ValueError(`--noise-max ${max} is below --noise-min ${min}.`, 'The noise std must not decrease with t: pass --noise-max >= --noise-min.');
  return Schedule.geometric(min, max).toJSON();
}

async function trainerOptions(f: TrainFlags, size: number): Promise<TrainerOptions> {
  const overrides: Partial<UNetConfig> = { ...(f.model as Partial<UNetConfig> | undefined) };
  if (f.width !== undefined) overrides.baseChannels = f.width;
  let corruption: TrainerOptions['corruption'] = f.corruption as TrainerOptions['corruption'];
  if (f.blurSchedule) {
    if (f.corruption !== 'blur') throw new ValueError('--blur-schedule only applies to --corruption blur.');
    const json = JSON.parse(await readFile(f.blurSchedule, 'utf8')) as { schedule?: unknown };
    const schedule = Schedule.fromJSON(json.schedule ?? json);
    corruption = { name: 'blur', height: size, width: size, schedule: schedule.toJSON() };
  }
  return {
    model: f.preset as PresetName,
    modelOverrides: overrides,
    batch: f.batch,
    lr: f.lr,
    warmupSteps: f.warmup,
    clipNorm: f.clip,
    emaDecay: f.ema,
    weightDecay: f.weightDecay,
    corruption,
    ...(f.noiseMin !== undefined || f.noiseMax !== undefined ? { noise: noiseSchedule(f) } : {}),
    loss: f.loss as TrainerOptions['loss'],
    weighting: f.weighting as TrainerOptions['weighting'],
    stratified: f.stratified,
    flip: f.flip,
    seed: f.seed,
    logEvery: f.logEvery,
    sampleCount: f.sampleCount,
    sampleSteps: f.sampleSteps,
    sampler: samplerKind(f.sampler),
  };
}
