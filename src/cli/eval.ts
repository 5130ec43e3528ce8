// `softdiff eval`: score images against MNIST's held-out reference digits and print one JSON line.
//   --checkpoint X   sample `--count` images from a training checkpoint (in batches of --batch, batch i
//                    with seed mixSeed(--seed, i): the same seeds for every checkpoint and sampler)
//   --images P       score a folder of PNG/JPEG images or a grid PNG written by softdiff
//   --real           score `--count` real digits from the classifier's training split (the floor); with
//                    another --reference, `--count` of that data set's own images (an optimistic floor)
//   --distort D      damage the --real or --images images first (blur:2, noise:0.1, speckle:0.05,
//                    uniform): the calibration rows of docs/quality.md
//   --reference R    compare with another data set or folder instead (emoji, <folder>...): the
//                    classifier-free DCT distance only
// Progress goes to stderr on a terminal (--progress lines for logs); the JSON line to stdout.
import { stat } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { loadDataset, loadImageFolder, loadMnist } from '../node/datasets.ts';
import { decodeImage } from '../node/image-decode.ts';
import { writeGridPng } from '../node/png.ts';
import { Progress, type ProgressMode } from '../node/progress.ts';
import { EngineError, ValueError } from '../gpu/errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { SamplerKind } from '../diffusion/samplers.ts';
import { decodeCheckpointFile, type DecodedCheckpoint } from '../train/checkpoint-state.ts';
import { SoftDiffusion } from '../api/soft-diffusion.ts';
import { gridCells } from '../eval/grid-cells.ts';
import { describeDistortion, distort, parseDistortion, type Distortion } from '../eval/distortions.ts';
import { datasetSample, imagesAt, realImages } from '../eval/reference.ts';
import { PR_NEIGHBOURS, clip01, dctSpectrum, type Evaluator } from '../eval/evaluator.ts';
import { diagonalFrechetDistance } from '../eval/metrics.ts';
import { batchSeed } from '../eval/sample-set.ts';
import { EVAL_DEFAULTS, MAX_EVAL_IMAGES, mnistClassifier, mnistEvaluator, scoreFields } from './mnist-eval.ts';
import { intIn, positiveInt, seedValue, type CliIo } from './args.ts';
import { MAX_BATCH, MAX_IMAGE_FILE_BYTES, MAX_LANGEVIN_STEPS, MAX_SAMPLER_STEPS } from '../base/limits.ts';
import { readFileBounded, readSafetensorsFile } from '../node/files.ts';
import { SAMPLER_CHOICES, samplerKind } from './train.ts';

interface EvalFlags {
  checkpoint?: string;
  images?: string;
  real?: boolean;
  sampler?: string;
  steps: number;
  count: number;
  seed: number;
  batch: number;
  weights: 'ema' | 'model';
  langevinSteps: number;
  classifier?: string;
  grid?: string;
  distort?: Distortion;
  prefixCounts?: number[];
  reference: string;
  size?: number;
  progress?: ProgressMode;
}

export function evalCommand(io: CliIo): Command {
  return new Command('eval')
    .description('score samples of a checkpoint, a folder or grid of images, or real digits against the held-out MNIST digits; one JSON line')
    .option('--checkpoint <file>', 'sample from this training checkpoint and score the samples')
    .option('--images <folder|grid.png>', 'score existing images: a folder of PNG/JPEG files or a grid PNG written by softdiff')
    .option('--real', "score real digits from the classifier's training split (the floor of every score); with another --reference, --count of its own images")
    .addOption(new Option('--sampler <kind>', "sampler (default: the checkpoint's preview sampler)").choices(SAMPLER_CHOICES))
    .option('--steps <n>', 'sampler steps (NFE; noise levels for langevin)', intIn(1, MAX_SAMPLER_STEPS, 'the most sampler steps'), EVAL_DEFAULTS.steps)
    .option('--count <n>', 'images to sample (or real digits to score)', positiveInt, EVAL_DEFAULTS.count)
    .option('--seed <n>', 'seed of the evaluation: batch i samples with seed mixSeed(seed, i)', seedValue, EVAL_DEFAULTS.seed)
    .option('--batch <n>', 'images per sampler run (compare runs at the same --batch: it fixes which seed each sample gets)', intIn(1, MAX_BATCH, 'the largest batch'), EVAL_DEFAULTS.batch)
    .addOption(new Option('--weights <which>', 'EMA weights or the raw trained weights').choices(['ema', 'model']).default('ema'))
    .option('--langevin-steps <n>', 'annealed Langevin steps per noise level', intIn(1, MAX_LANGEVIN_STEPS, 'the most steps per level'), 100)
    .option('--classifier <file>', 'classifier weights (default: the shipped assets/mnist-classifier.safetensors)')
    .option('--reference <name|folder>', "compare with 'mnist' (the held-out digits: every metric) or another data set or folder (emoji, blobs, stripes, <folder>: the DCT distance only)", 'mnist')
    .option('--size <px>', "image size with a non-MNIST --reference and --images (default 32; a checkpoint's own size otherwise)", positiveInt)
    .option('--distort <kind:amount>', 'damage the --real or --images images first: blur:<std px>, noise:<std>, speckle:<fraction>, uniform', parseDistortionFlag)
    .option('--prefix-counts <n,...>', 'also score the first n images for each n (the same samples: how the scores depend on the count)', countList)
    .option('--grid <file>', 'also write the first 64 scored images as a grid PNG')
    .addOption(new Option('--progress <mode>', 'progress display (default: bar on a terminal, else off)').choices(['bar', 'lines', 'off']))
    .action(async (f: EvalFlags) => {
      await runEval(f, io);
    });
}

export interface CheckpointSampling {
  sampler?: SamplerKind;
  steps: number;
  count: number;
  seed: number;
  batch: number;
  weights: 'ema' | 'model';
  langevinSteps?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Samples of a training checkpoint through the one-call API, batch by batch with the evaluation's
 * seed set (batch i: batchSeed(seed, i), src/eval/sample-set.ts): the same seeds for every checkpoint
 * and sampler compared at the same --seed and --batch.
 */
export async function sampleCheckpoint(gpu: Gpu, ckpt: DecodedCheckpoint, bytes: Uint8Array, s: CheckpointSampling): Promise<{ images: Float32Array; sampler: SamplerKind; nfe: number }> {
  const batch = Math.min(s.batch, s.count);
  const model = await SoftDiffusion.fromCheckpoint(gpu, bytes, { name: ckpt.source, weights: s.weights, count: batch, steps: s.steps, sampler: s.sampler, langevinSteps: s.langevinSteps });
  try {
    const plan = await model.plan();
    const [c, h, w] = model.info.imageShape;
    const per = c * h * w;
    const images = new Float32Array(s.count * per);
    const batches = Math.ceil(s.count / batch);
    const total = batches * plan.nfe;
    for (let i = 0; i < batches; i++) {
      const r = await model.sample({ seed: batchSeed(s.seed, i), onProgress: (done) => s.onProgress?.(i * plan.nfe + done, total) });
      const n = Math.min(batch, s.count - i * batch);
      images.set(r.images.subarray(0, n * per), i * batch * per);
    }
    // nfe: network evaluations per sample (what the sampler costs), not summed over the batches
    return { images, sampler: plan.sampler, nfe: plan.nfe };
  } finally {
    model.destroy();
  }
}

async function runEval(f: EvalFlags, io: CliIo): Promise<void> {
  const sources = [f.checkpoint ? '--checkpoint' : null, f.images ? '--images' : null, f.real ? '--real' : null].filter(Boolean);
  if (sources.length !== 1) throw new ValueError(`softdiff eval needs exactly one of --checkpoint, --images, --real (got ${sources.length ? sources.join(', ') : 'none'}).`, 'Example: softdiff eval --checkpoint runs/mnist/checkpoint.safetensors');
  if (f.count > MAX_EVAL_IMAGES) throw new ValueError(`--count ${f.count} is above the limit of ${MAX_EVAL_IMAGES} images.`);
  if (f.distort && f.checkpoint) throw new ValueError('--distort applies to --real or --images, not to --checkpoint samples.');
  if (f.reference !== 'mnist') return runDctEval(f, io);
  if (f.size !== undefined && f.size !== 32) throw new ValueError(`--size ${f.size}: MNIST scores are for 32x32 images.`, 'Drop --size, or pass a non-MNIST --reference.');
  const started = performance.now();
  // Everything read from files is checked before the GPU work starts.
  const weights = await mnistClassifier(f.classifier);
  const cfg = weights.config;
  const ckptBytes = f.checkpoint ? await readSafetensorsFile(f.checkpoint, 'checkpoint (--checkpoint)') : null;
  const ckpt = ckptBytes ? decodeCheckpointFile(ckptBytes, f.checkpoint) : null;
  if (ckpt) {
    const m = ckpt.fields.options.model;
    if (m.inChannels !== cfg.inChannels || m.imageSize !== cfg.imageSize)
      throw new ValueError(`${f.checkpoint} makes ${m.inChannels}x${m.imageSize}x${m.imageSize} images; the classifier takes ${cfg.inChannels}x${cfg.imageSize}x${cfg.imageSize}.`, 'softdiff eval scores MNIST models (1x32x32).');
  }
  let images = f.images ? await readImages(f.images, cfg.inChannels as 1 | 3, cfg.imageSize, PR_NEIGHBOURS + 1, io) : null;
  const total = images ? images.length / (cfg.inChannels * cfg.imageSize * cfg.imageSize) : f.count;
  const tooLarge = (f.prefixCounts ?? []).filter((n) => n >= total);
  if (tooLarge.length) throw new ValueError(`--prefix-counts ${tooLarge.join(',')}: each must be below the ${total} images scored.`);
  const line: Record<string, unknown> = {};
  const gpu = await createNodeGpu();
  let evaluator: Evaluator | null = null;
  try {
    evaluator = await mnistEvaluator(gpu, weights);
    let sampleSeconds: number | undefined;
    if (ckpt) {
      const mode: ProgressMode = f.progress ?? ((io.progress ?? process.stderr).isTTY ? 'bar' : 'off');
      let progress: Progress | null = null;
      const t0 = performance.now();
      const s = await sampleCheckpoint(gpu, ckpt, ckptBytes!, {
        sampler: f.sampler ? samplerKind(f.sampler) : undefined,
        steps: f.steps,
        count: f.count,
        seed: f.seed,
        batch: f.batch,
        weights: f.weights,
        langevinSteps: f.langevinSteps,
        onProgress: (done, total) => {
          progress ??= new Progress({ total, label: 'eval: sample', mode, stream: io.progress });
          progress.update(done);
        },
      });
      (progress as Progress | null)?.stop();
      sampleSeconds = (performance.now() - t0) / 1000;
      images = s.images;
      Object.assign(line, { checkpoint: f.checkpoint, step: ckpt.fields.step, weights: f.weights, sampler: s.sampler, steps: f.steps, seed: f.seed, batch: Math.min(f.batch, f.count), nfe: s.nfe });
    } else if (images) {
      line.images = f.images;
    } else {
      const data = loadMnist();
      images = realImages(data, data.labels, weights.info, f.count, f.seed);
      Object.assign(line, { real: 'mnist training split', seed: f.seed });
    }
    if (f.distort) {
      images = distort(images, cfg.imageSize, f.distort, f.seed);
      line.distort = describeDistortion(f.distort);
    }
    if (f.grid) {
      const n = Math.min(64, images.length / evaluator.imageElements);
      await writeGridPng(f.grid, images.subarray(0, n * evaluator.imageElements), [n, cfg.inChannels, cfg.imageSize, cfg.imageSize]);
    }
    const t1 = performance.now();
    const scores = await evaluator.score(images);
    const prefixes: Record<string, unknown> = {};
    for (const n of f.prefixCounts ?? []) {
      prefixes[n] = scoreFields(await evaluator.score(images.subarray(0, n * evaluator.imageElements)));
    }
    const scoreSeconds = (performance.now() - t1) / 1000;
    io.out(
      `${JSON.stringify({
        ...line,
        ...scoreFields(scores),
        ...(f.prefixCounts?.length ? { prefixes } : {}),
        reference: `mnist held-out (${evaluator.referenceCount})`,
        classifier: weights.path,
        seconds: { ...(sampleSeconds !== undefined ? { sample: Math.round(sampleSeconds) } : {}), score: Math.round(scoreSeconds * 10) / 10, total: Math.round((performance.now() - started) / 1000) },
        adapter: gpu.adapter.key,
      })}\n`,
    );
  } finally {
    evaluator?.destroy();
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}

/**
 * A non-MNIST reference: only the classifier-free DCT distance, between the images (a folder, a grid
 * or a checkpoint's samples) and every image of the reference data set or folder.
 */
async function runDctEval(f: EvalFlags, io: CliIo): Promise<void> {
  if (f.prefixCounts?.length) throw new ValueError('--prefix-counts applies to MNIST scores.');
  const started = performance.now();
  const ckptBytes = f.checkpoint ? await readSafetensorsFile(f.checkpoint, 'checkpoint (--checkpoint)') : null;
  const ckpt = ckptBytes ? decodeCheckpointFile(ckptBytes, f.checkpoint) : null;
  const model = ckpt?.fields.options.model;
  if (model && f.size !== undefined && f.size !== model.imageSize) throw new ValueError(`--size ${f.size}: ${f.checkpoint} makes ${model.imageSize}x${model.imageSize} images.`);
  const size = model?.imageSize ?? f.size ?? 32;
  const warnings: string[] = [];
  const ref = await loadDataset(f.reference, { size, channels: model ? (model.inChannels as 1 | 3) : undefined, onWarning: (m) => warnings.push(m) });
  for (const w of warnings) io.err(`warning: ${w}\n`);
  if (ref.length > MAX_EVAL_IMAGES) throw new ValueError(`--reference ${f.reference} holds ${ref.length} images, above the limit of ${MAX_EVAL_IMAGES}.`);
  if (model && model.inChannels !== ref.channels) throw new ValueError(`${f.checkpoint} makes ${model.inChannels}-channel images; --reference ${f.reference} has ${ref.channels}.`);
  const per = ref.channels * size * size;
  const refImages = imagesAt(ref, Array.from({ length: ref.length }, (_, i) => i));
  let images = f.images ? await readImages(f.images, ref.channels as 1 | 3, size, 2, io) : f.real ? datasetSample(ref, f.count, f.seed) : null;
  const line: Record<string, unknown> = f.real ? { real: `${ref.name}: ${images!.length / (ref.channels * size * size)} of the reference's own images (an optimistic floor)`, seed: f.seed } : {};
  const gpu = await createNodeGpu();
  try {
    if (ckpt) {
      const s = await sampleCheckpoint(gpu, ckpt, ckptBytes!, { sampler: f.sampler ? samplerKind(f.sampler) : undefined, steps: f.steps, count: f.count, seed: f.seed, batch: f.batch, weights: f.weights, langevinSteps: f.langevinSteps });
      images = s.images;
      Object.assign(line, { checkpoint: f.checkpoint, step: ckpt.fields.step, weights: f.weights, sampler: s.sampler, steps: f.steps, seed: f.seed, batch: Math.min(f.batch, f.count), nfe: s.nfe });
    } else if (f.images) line.images = f.images;
    if (f.distort) {
      images = distort(images!, size, f.distort, f.seed);
      line.distort = describeDistortion(f.distort);
    }
    const count = images!.length / per;
    if (count < 2) throw new ValueError(`The DCT distance needs at least 2 images, got ${count}.`);
    if (f.grid) await writeGridPng(f.grid, images!.subarray(0, Math.min(64, count) * per), [Math.min(64, count), ref.channels, size, size]);
    const a = await dctSpectrum(gpu, clip01(images!), ref.channels, size, 250);
    const b = await dctSpectrum(gpu, refImages, ref.channels, size, 250);
    io.out(`${JSON.stringify({ ...line, count, dctFd: Number(diagonalFrechetDistance(a, b).toPrecision(5)), reference: `${ref.name} (${ref.length})`, seconds: { total: Math.round((performance.now() - started) / 1000) }, adapter: gpu.adapter.key })}\n`);
  } finally {
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}

function countList(value: string): number[] {
  const list = value.split(',').map((v) => positiveInt(v.trim()));
  return [...new Set(list)].sort((a, b) => a - b);
}

function parseDistortionFlag(value: string): Distortion {
  try {
    return parseDistortion(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/\n\s*->\s*/, ' '));
  }
}

/** An --images error that does not say where it came from, prefixed with the flag. */
function namingImagesFlag(e: unknown): unknown {
  if (!(e instanceof EngineError) || e.message.includes('--images')) return e;
  const message = e.hint ? e.message.slice(0, e.message.lastIndexOf('\n  -> ')) : e.message;
  return new ValueError(`--images: ${message}`, e.hint);
}

/**
 * A folder of images (resized to `size`) or one grid PNG, as floats [n, C, S, S]. Bounded before
 * anything is decoded: at most MAX_EVAL_IMAGES files in a folder, MAX_IMAGE_FILE_BYTES for a grid file
 * and MAX_IMAGE_PIXELS from its header; at least `atLeast` images, or the metrics are undefined.
 */
async function readImages(path: string, channels: 1 | 3, size: number, atLeast: number, io: CliIo): Promise<Float32Array> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    throw new EngineError(`Cannot read --images ${path}: ${(e as Error).message}`, 'Pass a folder of PNG/JPEG images or a grid PNG.');
  }
  const per = channels * size * size;
  let images: Float32Array;
  if (isDir) {
    try {
      const ds = await loadImageFolder(path, { size, channels, maxFiles: MAX_EVAL_IMAGES, onWarning: (m) => io.err(`warning: ${m}\n`) });
      images = new Float32Array(ds.length * per);
      for (let i = 0; i < ds.length; i++) ds.copyInto(i, images, i * per);
    } catch (e) {
      throw namingImagesFlag(e);
    }
  } else {
    const bytes = await readFileBounded(path, MAX_IMAGE_FILE_BYTES, '--images file', 'Pass a grid PNG written by softdiff, or a folder of images.');
    const img = decodeImage(bytes, `--images ${path}`);
    images = gridCells(img, size, channels, 2, `--images ${path}`);
  }
  const n = images.length / per;
  if (n < atLeast)
    throw new ValueError(
      `--images ${path} holds ${n} images${isDir ? '' : ' (blank grid cells are skipped)'}; the scores need at least ${atLeast}.`,
      'Score a few hundred images or more: the Fréchet distance is biased upwards at small counts (docs/quality.md).',
    );
  return images;
}
