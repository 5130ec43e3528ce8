// `softdiff train`: train a Soft Diffusion model and write, into --out (default runs/<data>):
//   checkpoint.safetensors   the whole training state (atomic writes; resumable with --resume)
//   loss.jsonl               {step, loss, lr, elapsed} every --log-every steps
//   samples/step-NNNNNN.png  preview grids (EMA weights, --sampler: naive by default) every --sample-every steps
//   samples/latest.png       the newest grid
//   options.json             the resolved options of the run
// MNIST runs end with quality scores of the EMA weights (--final-eval samples; docs/quality.md) and can
// score every --eval-every steps into loss.jsonl ({step, eval: {...}}).
// With no options it trains the `mnist` preset on MNIST with blur + noise (the main job).
import { copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { loadDataset } from '../node/datasets.ts';
import { writeFileAtomic } from '../node/checkpoint.ts';
import { writeGridPng } from '../node/png.ts';
import { Progress, type ProgressMode } from '../node/progress.ts';
import { JsonlLog } from '../node/jsonl-log.ts';
import { fsError, readFileBounded, readSafetensorsFile } from '../node/files.ts';
import { RunFolder, RunFolderExistsError } from '../node/run-folder.ts';
import { EngineError, NonFiniteError, ValueError } from '../gpu/errors.ts';
import { PRESETS, type PresetName, type UNetConfig } from '../nn/config.ts';
import { Schedule, defaultNoiseSchedule, type ScheduleJSON } from '../diffusion/schedule.ts';
import { Trainer } from '../train/trainer.ts';
import { decodeCheckpointFile } from '../train/checkpoint-state.ts';
import { CORRUPTIONS, LOSSES, WEIGHTINGS, checkModelOverrides, type TrainerOptions } from '../train/options.ts';
import { parseJsonStrict } from '../io/strict-json.ts';
import type { SamplerKind } from '../diffusion/samplers.ts';
import {
  MAX_BATCH, MAX_CHANNELS, MAX_DATASET_IMAGES, MAX_IMAGE_SIZE, MAX_JSON_FILE_BYTES, MAX_PREVIEW_IMAGES, MAX_SAMPLER_STEPS, MAX_SAMPLE_IMAGES, MAX_STEPS, MAX_X0_WEIGHT,
} from '../base/limits.ts';
import { intIn, jsonObject, numberIn, nonNegativeNumber, positiveNumber, seedValue, unitInterval, usageError, type CliIo } from './args.ts';
import { FINAL_EVAL_COUNT, TrainingScores, scoreFields } from './mnist-eval.ts';

/**
 * The main job's defaults: MNIST, `mnist` preset, 2400 steps of batch 16: twice the steps of the
 * pre-fusion job in about the same time (17 min 38 s measured on an idle 2-core CPU with lavapipe,
 * 0.41 s per step with three preview grids; the fused kernels of issue 13), then the final scores.
 *
 * Noise: sigma(t) geometric from 0.01 to `noiseMax` = 0.1 (data in [0, 1]), the library default
 * for the blur corruption. Measured in docs/quality.md (issue 17): with the soft loss alone sigma_max 1
 * halves the naive sampler's Fréchet distance; with the x0 weight below and the momentum sampler,
 * 0.1 is the better of the two (14.3 against 27.3 at 1200 steps). `--noise-max` stays a flag.
 *
 * Loss: the soft loss plus `x0Weight` = 0.1 times the x0 loss (the library default stays 0, the
 * paper's soft loss). The soft loss alone never trains x0hat in the frequencies the blur has removed,
 * and the momentum sampler adds exactly those back as the blur recedes: with the soft loss alone its
 * samples are broken strokes (Fréchet distance 40.0 at 1,000 samples, the naive sampler 29.5); with
 * the x0 term they are whole digits (14.3 at 256 samples, the best of any sampler and loss measured),
 * while the naive sampler, which re-blurs x0hat every step, stays behind (27.3). Hence previews with the
 * paper's momentum sampler. docs/quality.md has the tables.
 */
export const MAIN_JOB = { data: 'mnist', preset: 'mnist', steps: 2400, batch: 16, lr: 2e-3, warmup: 50, sampleEvery: 800, checkpointEvery: 100, sampler: 'momentum', noiseMax: 0.1, x0Weight: 0.1 } as const;

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
  x0Weight?: number;
  weighting: string;
  stratified: boolean;
  flip: boolean;
  seed: number;
  out?: string;
  resume?: string;
  force: boolean;
  deterministic: boolean;
  sampleEvery: number;
  sampleCount: number;
  sampleSteps: number;
  sampler: string;
  checkpointEvery: number;
  logEvery: number;
  evalEvery: number;
  evalCount: number;
  finalEval: number;
  classifier?: string;
  progress?: ProgressMode;
}

const everySteps = intIn(0, MAX_STEPS, 'steps');

export function trainCommand(io: CliIo): Command {
  return new Command('train')
    .description('train a Soft Diffusion model; with no options: the mnist preset on MNIST with blur + noise, into runs/mnist')
    .option('--data <name|folder>', 'data set: mnist, emoji, blobs, stripes, or a folder of PNG/JPEG images', MAIN_JOB.data)
    .option('--size <px>', 'image size (mnist: 32; emoji: 16, 20, 32, 64; others: any up to 512)', intIn(1, MAX_IMAGE_SIZE, 'the largest image size'))
    .option('--length <n>', 'number of images of a synthetic data set (blobs, stripes)', intIn(1, MAX_DATASET_IMAGES, 'the largest data set'))
    .addOption(new Option('--preset <name>', 'U-Net preset').choices(Object.keys(PRESETS)).default(MAIN_JOB.preset))
    .option('--width <n>', 'U-Net base channels (overrides the preset)', intIn(1, MAX_CHANNELS, 'the widest U-Net level'))
    .option('--model <json>', 'U-Net config overrides as JSON, e.g. \'{"channelMults":[1,2],"groups":4}\'', jsonObject)
    .option('--steps <n>', 'total training steps (a resumed run continues up to this step)', intIn(1, MAX_STEPS, 'the GPU noise counter is 32-bit'), MAIN_JOB.steps)
    .option('--batch <n>', 'batch size', intIn(1, MAX_BATCH, 'the largest batch'), MAIN_JOB.batch)
    .option('--lr <x>', 'peak learning rate (AdamW)', positiveNumber, MAIN_JOB.lr)
    .option('--warmup <n>', 'linear learning-rate warmup steps', everySteps, MAIN_JOB.warmup)
    .option('--clip <x>', 'global gradient-norm clip (0: off)', nonNegativeNumber, 1)
    .option('--ema <x>', 'EMA decay of the weights used for sampling', unitInterval, 0.995)
    .option('--weight-decay <x>', 'AdamW weight decay', nonNegativeNumber, 0)
    .addOption(new Option('--corruption <kind>', 'corruption C_t').choices(CORRUPTIONS).default('blur'))
    .option('--blur-schedule <file>', 'sigmaB(t) as JSON (the output of `softdiff schedule`)')
    .option('--noise-min <x>', 'noise std sigma(0) of the geometric noise schedule (data in [0, 1]; default 0.01)', positiveNumber)
    .option('--noise-max <x>', `noise std sigma(1) of the geometric noise schedule (default ${MAIN_JOB.noiseMax} for blur, 0.1 for mask, 50 for identity)`, positiveNumber)
    .addOption(new Option('--loss <kind>', 'training loss').choices(LOSSES).default('soft'))
    .option('--x0-weight <x>', `soft loss only: weight lambda of the x0 loss added to it, ||C e||^2 + lambda ||e||^2 (default ${MAIN_JOB.x0Weight}; 0: the paper's soft loss alone)`, numberIn(0, MAX_X0_WEIGHT, 'the largest x0 weight'))
    .addOption(new Option('--weighting <w>', 'loss weight w(t)').choices(WEIGHTINGS).default('uniform'))
    .option('--no-stratified', 'draw t i.i.d. instead of one per stratum of the batch')
    .option('--flip', 'random left-right flips', false)
    .option('--seed <n>', 'seed of everything random', seedValue, 0)
    .option('--out <folder>', 'output folder (default runs/<data>; with --resume, the checkpoint\'s folder)')
    .option('--resume <checkpoint>', 'continue a run from its checkpoint (options come from the file)')
    .option('--force', 'replace a run already in --out (its checkpoint, loss log and previews)', false)
    .option('--deterministic', 'pin the kernel variants (each op\'s first variant, no timing): the same command gives bit-identical weights in every process (may be slower)', false)
    .option('--sample-every <n>', 'preview grid every n steps (0: only at the end)', everySteps, MAIN_JOB.sampleEvery)
    .option('--sample-count <n>', 'images in a preview grid', intIn(1, MAX_PREVIEW_IMAGES, 'the largest preview grid'), 16)
    .option('--sample-steps <n>', 'sampler steps for previews', intIn(1, MAX_SAMPLER_STEPS, 'the most sampler steps'), 50)
    .addOption(new Option('--sampler <kind>', 'sampler for previews').choices(SAMPLER_CHOICES).default(MAIN_JOB.sampler))
    .option('--checkpoint-every <n>', 'checkpoint every n steps (0: only at the end)', everySteps, MAIN_JOB.checkpointEvery)
    .option('--log-every <n>', 'read the loss back every n steps', intIn(1, MAX_STEPS, 'steps'), 10)
    .option('--eval-every <n>', 'quality scores of the EMA weights every n steps into loss.jsonl (MNIST; 0: off)', everySteps, 0)
    .option('--eval-count <n>', 'samples per --eval-every score', intIn(1, MAX_SAMPLE_IMAGES, 'the most images scored'), 64)
    .option('--final-eval <n>', 'samples scored at the end (MNIST; 0: none)', intIn(0, MAX_SAMPLE_IMAGES, 'the most images scored'), FINAL_EVAL_COUNT)
    .option('--classifier <file>', 'classifier weights for the scores (default: the shipped ones)')
    .addOption(new Option('--progress <mode>', 'progress display (default: bar on a terminal, else lines)').choices(['bar', 'lines', 'off']))
    .action(async (flags: TrainFlags, cmd: Command) => {
      await runTrain(flags, cmd, io);
    });
}

function given(cmd: Command, name: string): boolean {
  return cmd.getOptionValueSource(name) === 'cli';
}

async function runTrain(f: TrainFlags, cmd: Command, io: CliIo): Promise<void> {
  // Everything the flags and files say is checked before a folder, a data set or a GPU is touched.
  const ckpt = f.resume ? decodeCheckpointFile(await readSafetensorsFile(f.resume, 'checkpoint (--resume)'), f.resume) : null;
  if (ckpt) {
    const ignored = ['preset', 'width', 'model', 'batch', 'lr', 'warmup', 'clip', 'ema', 'weightDecay', 'corruption', 'blurSchedule', 'noiseMin', 'noiseMax', 'loss', 'x0Weight', 'weighting', 'stratified', 'flip', 'seed', 'sampleCount', 'sampleSteps', 'sampler', 'logEvery', 'size', 'length'].filter((k) => given(cmd, k));
    if (ignored.length) io.err(`softdiff: resuming ${f.resume}: the run's options come from the checkpoint; ignoring ${ignored.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}.\n`);
  } else if (f.x0Weight && f.loss !== 'soft') {
    usageError(cmd, `--x0-weight ${f.x0Weight} applies to --loss soft only (the soft loss plus lambda times the x0 loss), not to --loss ${f.loss}. Drop --x0-weight or use --loss soft.`);
  }
  if (!ckpt && f.model) {
    try {
      checkModelOverrides(f.model, '--model');
    } catch (e) {
      usageError(cmd, (e as Error).message);
    }
  }
  const dataSpec = ckpt && !given(cmd, 'data') ? datasetSpecOf(ckpt.fields.dataset.name) : f.data;
  const out = f.out ?? (f.resume ? dirname(f.resume) : join('runs', dataSpec.replace(/^folder:/, '').replace(/[\\/]+$/, '').split(/[\\/]/).pop() || 'run'));
  const fresh = ckpt ? null : await trainerOptions(f, f.size ?? 32);

  let folder: RunFolder;
  try {
    folder = await RunFolder.open(out, { resume: f.resume, force: f.force, command: `softdiff ${(io.argv ?? ['train']).join(' ')}` });
  } catch (e) {
    if (e instanceof RunFolderExistsError) usageError(cmd, e.message);
    throw e;
  }
  for (const n of folder.notes) io.err(`softdiff train: ${n}.\n`);
  let failed = true;
  try {
    const size = ckpt ? ckpt.fields.dataset.size : f.size;
    // Warnings go out as they come, so that they are seen even when loading then fails.
    const dataset = await loadDataset(dataSpec, { size, length: ckpt ? ckpt.fields.dataset.length : f.length, onWarning: (m) => io.err(`warning: ${m}\n`) });
    if (ckpt) {
      const cut = await folder.trimLog(ckpt.fields.step);
      if (cut) io.err(`softdiff train: removed ${cut} loss record${cut === 1 ? '' : 's'} after step ${ckpt.fields.step} from ${folder.log} (they are trained again).\n`);
    }
    await train(f, io, folder, dataset, ckpt, fresh);
    failed = false;
  } finally {
    await folder.release(failed);
  }
}

/** Ctrl-C (SIGINT) and SIGTERM while training: remembered, so the loop ends after the current step; a second one quits at once. */
function watchSignals(io: CliIo): { readonly signal: NodeJS.Signals | null; dispose(): void } {
  let received: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals) => {
    if (received) {
      // Second signal: give up at once (the atomic writes keep the last checkpoint intact).
      dispose();
      process.kill(process.pid, sig);
      return;
    }
    received = sig;
    io.err(`\nsoftdiff train: ${sig} received; finishing the current step and writing a checkpoint (send it again to quit at once).\n`);
  };
  const dispose = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get signal() {
      return received;
    },
    dispose,
  };
}

/** A run ended by a signal after writing its checkpoint; the exit code is 128 + the signal's number. */
export class InterruptedError extends EngineError {
  constructor(
    message: string,
    hint: string,
    readonly exitCode: number,
  ) {
    super(message, hint);
  }
}

async function train(f: TrainFlags, io: CliIo, folder: RunFolder, dataset: Awaited<ReturnType<typeof loadDataset>>, ckpt: ReturnType<typeof decodeCheckpointFile> | null, fresh: TrainerOptions | null): Promise<void> {
  const out = folder.dir;
  const signals = watchSignals(io);
  const gpu = await createNodeGpu();
  let trainer: Trainer | null = null;
  let scoring: TrainingScores | null = null;
  const log = new JsonlLog(folder.log);
  const ckptPath = folder.checkpoint;
  try {
    if (f.deterministic) gpu.variants.policy = 'first';
    trainer = ckpt ? await Trainer.fromCheckpoint(gpu, dataset, ckpt) : await Trainer.create(gpu, dataset, fresh!);
    if (trainer.variantNote) io.err(`softdiff train: ${trainer.variantNote}.\n`);
    const o = trainer.options;
    try {
      await writeFileAtomic(folder.options, new TextEncoder().encode(`${JSON.stringify({ dataset: dataset.name, images: dataset.length, ...o }, null, 2)}\n`));
    } catch (e) {
      throw new EngineError(`Cannot write ${folder.options}: ${(e as Error).message.split('\n')[0]}`, 'Check that the output folder is writable and the disk has space.');
    }
    const remaining = f.steps - trainer.currentStep;
    io.err(
      `softdiff train: ${dataset.name} (${dataset.length} images ${dataset.channels}x${dataset.size}x${dataset.size}), U-Net ${trainer.net.parameterCount.toLocaleString('en')} parameters, ` +
        `batch ${o.batch}, ${o.corruption.name} + noise ${describeNoise(o.noise)}, ${o.loss} loss${o.x0Weight > 0 ? ` + ${o.x0Weight} x0` : ''}, adapter ${gpu.adapter.key}; ` +
        `${ckpt ? `resuming at step ${trainer.currentStep}, ` : ''}${Math.max(0, remaining)} steps -> ${out}\n`,
    );
    if (remaining <= 0) {
      io.err(`softdiff train: the checkpoint is already at step ${trainer.currentStep} >= --steps ${f.steps}; nothing to do.\n`);
      return;
    }
    const mnist = dataset.name.startsWith('mnist');
    if (f.evalEvery > 0 && !mnist) throw new ValueError(`--eval-every scores MNIST runs only; this run trains on '${dataset.name}'.`);
    const scores = async () => (scoring ??= await TrainingScores.create(gpu, trainer!, f.classifier));
    const progress = new Progress({ total: f.steps, label: 'train', mode: f.progress, stream: io.progress });
    progress.update(trainer.currentStep);
    try {
      await trainer.run(remaining, {
        onStep: (r) => progress.update(r.step, r.loss !== undefined ? { loss: r.loss } : undefined),
        onLog: (r) => log.append({ ...r }),
        sampleEvery: f.sampleEvery,
        onSample: async (s) => {
          const file = join(folder.samples, `step-${String(s.step).padStart(6, '0')}.png`);
          const latest = join(folder.samples, 'latest.png');
          const hint = 'Check that the output folder is writable and the disk has space.';
          await writeGridPng(file, s.images, s.shape).catch((e: unknown) => Promise.reject(fsError(e, 'write the preview grid', file, hint)));
          await copyFile(file, latest).catch((e: unknown) => Promise.reject(fsError(e, 'write the preview grid', latest, hint)));
        },
        checkpointEvery: f.checkpointEvery,
        onCheckpoint: (bytes) => writeFileAtomic(ckptPath, bytes),
        shouldStop: () => signals.signal !== null,
        evalEvery: f.evalEvery,
        onEval: async (step) => {
          const r = await (await scores()).score(f.evalCount);
          log.append({ step, eval: { ...scoreFields(r.scores), realFd: Number(r.realFd.toPrecision(5)), sampler: r.sampler, steps: r.steps, seconds: Math.round(r.seconds) } });
        },
      });
    } finally {
      progress.stop();
    }
    const sig = signals.signal;
    if (sig && trainer.currentStep < f.steps) {
      const step = trainer.currentStep;
      if (step > 0 && trainer.lastCheckpointStep !== step) await trainer.saveCheckpoint((bytes) => writeFileAtomic(ckptPath, bytes));
      const saved = trainer.lastCheckpointStep ?? ckpt?.fields.step ?? null;
      throw new InterruptedError(
        `train: interrupted by ${sig} after step ${step}; ${saved === null ? 'no checkpoint was written' : `checkpoint written: ${ckptPath} (step ${saved})`}.`,
        saved === null ? 'Nothing to resume; start the run again.' : `Continue with \`softdiff train --resume ${ckptPath} --steps ${f.steps}\`.`,
        sig === 'SIGINT' ? 130 : 143,
      );
    }
    io.err(`softdiff train: done at step ${trainer.currentStep}, loss ${trainer.loss?.toPrecision(4) ?? '?'}; checkpoint ${ckptPath}, samples ${join(folder.samples, 'latest.png')}\n`);
    if (mnist && f.finalEval > 0) {
      const r = await (await scores()).score(f.finalEval);
      const s = r.scores;
      log.append({ step: trainer.currentStep, final: { ...scoreFields(s), realFd: Number(r.realFd.toPrecision(5)), sampler: r.sampler, steps: r.steps, seconds: Math.round(r.seconds) } });
      io.err(
        `softdiff train: scores of ${s.count} samples (EMA weights, ${r.sampler} sampler, ${r.steps} steps; docs/quality.md): ` +
          `Fréchet distance ${s.fd.toFixed(1)} (real digits at ${s.count}: ${r.realFd.toFixed(1)}), precision ${s.precision.toFixed(2)}, recall ${s.recall.toFixed(2)}, ` +
          `class entropy ${s.classEntropy.toFixed(2)}, confidence ${s.confidence.toFixed(2)}, DCT distance ${s.dctFd.toFixed(2)}; ${Math.round(r.seconds)} s\n`,
      );
    }
  } catch (e) {
    if (trainer && e instanceof EngineError && !(e instanceof InterruptedError)) io.err(`softdiff train: stopped. ${keptCheckpoint(trainer, ckptPath, ckpt?.fields.step ?? null, f.steps)}\n`);
    throw e;
  } finally {
    signals.dispose();
    log.close();
    (scoring as TrainingScores | null)?.destroy();
    trainer?.destroy();
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}

/** What is on disk after a run stopped early, and how to continue from it. */
function keptCheckpoint(trainer: Trainer, path: string, resumedFrom: number | null, steps: number): string {
  const step = trainer.lastCheckpointStep ?? resumedFrom;
  if (step === null) return 'No checkpoint was written (the run stopped before its first one); nothing to resume.';
  const when = trainer.lastCheckpointStep !== null && trainer.lastCheckpointStep !== resumedFrom ? 'written by this run' : 'from before this run';
  return `Checkpoint kept: ${path} (step ${step}, ${when}); continue with \`softdiff train --resume ${path} --steps ${steps}\`.`;
}

/** 'folder:cats' names the folder's base name only: the path must be given again with --data. */
function datasetSpecOf(name: string): string {
  if (name.startsWith('folder:')) throw new ValueError(`The checkpoint was trained on the image folder '${name.slice(7)}'.`, 'Pass its path with --data when resuming.');
  return name.replace(/-\d+$/, '') || name;
}

function describeNoise(n: ScheduleJSON): string {
  return n.kind === 'geometric' ? `${n.min}..${n.max}` : `${n.values[0]}..${n.values[n.values.length - 1]} (piecewise)`;
}

/**
 * --noise-min / --noise-max: a geometric sigma(t); the flag not given keeps the corruption's default end,
 * except sigma(1) of the blur corruption, which is the main job's (MAIN_JOB.noiseMax).
 */
function noiseSchedule(f: TrainFlags): ScheduleJSON {
  const d = defaultNoiseSchedule(f.corruption).toJSON();
  if (d.kind !== 'geometric') throw new ValueError('The default noise schedule is not geometric.');
  const min = f.noiseMin ?? d.min; // the JSON's exact ends (Schedule.at(0) rounds through exp/log)
  const max = f.noiseMax ?? (f.corruption === 'blur' ? MAIN_JOB.noiseMax : d.max);
  if (max < min) throw new ValueError(`--noise-max ${max} is below --noise-min ${min}.`, 'The noise std must not decrease with t: pass --noise-max >= --noise-min.');
  return Schedule.geometric(min, max).toJSON();
}

async function trainerOptions(f: TrainFlags, size: number): Promise<TrainerOptions> {
  const overrides: Partial<UNetConfig> = { ...(f.model as Partial<UNetConfig> | undefined) };
  if (f.width !== undefined) overrides.baseChannels = f.width;
  let corruption: TrainerOptions['corruption'] = f.corruption as TrainerOptions['corruption'];
  if (f.blurSchedule) {
    if (f.corruption !== 'blur') throw new ValueError('--blur-schedule only applies to --corruption blur.');
    const path = f.blurSchedule;
    const text = new TextDecoder().decode(await readFileBounded(path, MAX_JSON_FILE_BYTES, '--blur-schedule file', 'Pass the JSON written by `softdiff schedule --out`.'));
    let json: { schedule?: unknown };
    try {
      json = parseJsonStrict(text) as { schedule?: unknown };
      const schedule = Schedule.fromJSON(json?.schedule ?? json);
      corruption = { name: 'blur', height: size, width: size, schedule: schedule.toJSON() };
    } catch (e) {
      throw new ValueError(`--blur-schedule ${path} is not a schedule: ${(e as Error).message.split('\n')[0]}`, 'Pass the JSON written by `softdiff schedule --out`.');
    }
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
    ...(f.noiseMin !== undefined || f.noiseMax !== undefined || f.corruption === 'blur' ? { noise: noiseSchedule(f) } : {}),
    loss: f.loss as TrainerOptions['loss'],
    // The main job's x0 weight goes with the soft loss; the other losses take none.
    x0Weight: f.x0Weight ?? (f.loss === 'soft' ? MAIN_JOB.x0Weight : 0),
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
