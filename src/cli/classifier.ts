// `softdiff classifier`: train the feature network of the quality metrics on MNIST's training split
// (80% of each class; the held-out 20% is the metrics' reference set) and write its weights with the
// reference set's statistics. With the defaults this reproduces the shipped
// assets/mnist-classifier.safetensors (`npm run classifier`).
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { loadMnist } from '../node/datasets.ts';
import { writeFileAtomic } from '../node/checkpoint.ts';
import { Progress, type ProgressMode } from '../node/progress.ts';
import { ClassifierGraph } from '../eval/classifier.ts';
import { encodeClassifierWeights } from '../eval/classifier-weights.ts';
import { HELD_OUT_FRACTION, SPLIT_SEED, stratifiedSplit } from '../eval/split.ts';
import { trainClassifier } from '../eval/train-classifier.ts';
import { FeatureExtractor } from '../eval/features.ts';
import { Evaluator, referenceStatistics } from '../eval/evaluator.ts';
import { classifierSplit, imagesAt, realImages } from '../eval/reference.ts';
import type { ClassifierConfig } from '../eval/classifier.ts';
import type { ClassifierInfo } from '../eval/classifier-weights.ts';
import type { MnistDataset } from '../data/mnist.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { positiveInt, positiveNumber, seedValue, type CliIo } from './args.ts';

export const CLASSIFIER_DEFAULTS = { epochs: 10, batch: 64, lr: 3e-3, seed: 0, out: 'assets/mnist-classifier.safetensors' } as const;

interface ClassifierFlags {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  out: string;
  progress?: ProgressMode;
}

export function classifierCommand(io: CliIo): Command {
  return new Command('classifier')
    .description("train the quality metrics' feature network on MNIST's training split and write its weights")
    .option('--epochs <n>', 'passes over the 8,000 training digits', positiveInt, CLASSIFIER_DEFAULTS.epochs)
    .option('--batch <n>', 'batch size', positiveInt, CLASSIFIER_DEFAULTS.batch)
    .option('--lr <x>', 'peak learning rate', positiveNumber, CLASSIFIER_DEFAULTS.lr)
    .option('--seed <n>', 'seed of the initial weights, data order and shifts (the split is fixed)', seedValue, CLASSIFIER_DEFAULTS.seed)
    .option('--out <file>', 'weights file', CLASSIFIER_DEFAULTS.out)
    .addOption(new Option('--progress <mode>', 'progress display').choices(['bar', 'lines', 'off']))
    .action(async (f: ClassifierFlags) => {
      await runClassifier(f, io);
    });
}

/** Counts at which the file records the real digits' Fréchet distance (the floor a score is read against). */
export const FLOOR_COUNTS = [100, 256, 1000, 2000] as const;

/**
 * The weights file: the parameters, the held-out digits' statistics (features, DCT moments) and the
 * real-digit floor of the Fréchet distance at FLOOR_COUNTS (training-split digits, seed 0), so that a
 * page can score and print the floor without MNIST.
 */
export async function classifierFile(gpu: Gpu, data: MnistDataset, config: ClassifierConfig, flat: Float32Array, info: ClassifierInfo): Promise<Uint8Array> {
  const split = classifierSplit(data.labels, info);
  const extractor = await FeatureExtractor.create(gpu, { config, flat, info });
  const reference = await referenceStatistics(gpu, extractor, imagesAt(data, split.heldOut)).finally(() => extractor.destroy());
  const evaluator = await Evaluator.create(gpu, { weights: { config, flat, info, reference } });
  const realFd: Record<string, number> = {};
  try {
    for (const n of FLOOR_COUNTS) realFd[n] = Number((await evaluator.score(realImages(data, data.labels, info, n, 0))).fd.toPrecision(5));
  } finally {
    evaluator.destroy();
  }
  return encodeClassifierWeights({ config, flat, reference, info: { ...info, realFd } });
}

async function runClassifier(f: ClassifierFlags, io: CliIo): Promise<void> {
  const data = loadMnist();
  const split = stratifiedSplit(data.labels, HELD_OUT_FRACTION, SPLIT_SEED);
  const gpu = await createNodeGpu();
  const started = performance.now();
  try {
    io.err(`softdiff classifier: ${split.train.length} training digits, ${split.heldOut.length} held out; ${f.epochs} epochs at batch ${f.batch}, adapter ${gpu.adapter.key}\n`);
    let progress: Progress | null = null;
    const r = await trainClassifier(gpu, data, data.labels, split, {
      epochs: f.epochs,
      batch: f.batch,
      lr: f.lr,
      seed: f.seed,
      onLog: (l) => {
        progress ??= new Progress({ total: l.steps, label: 'classifier', mode: f.progress, stream: io.progress });
        progress.update(l.step, { loss: l.loss, acc: l.accuracy });
      },
    });
    (progress as Progress | null)?.stop();
    const command = `softdiff classifier${f.epochs !== CLASSIFIER_DEFAULTS.epochs ? ` --epochs ${f.epochs}` : ''}${f.batch !== CLASSIFIER_DEFAULTS.batch ? ` --batch ${f.batch}` : ''}${f.lr !== CLASSIFIER_DEFAULTS.lr ? ` --lr ${f.lr}` : ''}${f.seed !== CLASSIFIER_DEFAULTS.seed ? ` --seed ${f.seed}` : ''}`;
    const bytes = await classifierFile(gpu, data, r.config, r.flat, {
      dataset: data.name,
      heldOutFraction: HELD_OUT_FRACTION,
      splitSeed: SPLIT_SEED,
      heldOutAccuracy: r.heldOutAccuracy,
      trainAccuracy: r.trainAccuracy,
      heldOut: split.heldOut.length,
      train: split.train.length,
      steps: r.steps,
      ...r.options,
      command,
    });
    await mkdir(dirname(f.out), { recursive: true });
    await writeFileAtomic(f.out, bytes);
    const seconds = (performance.now() - started) / 1000;
    io.out(`${JSON.stringify({ out: f.out, heldOutAccuracy: r.heldOutAccuracy, trainAccuracy: r.trainAccuracy, parameters: new ClassifierGraph(r.config, { batch: 1 }).graph.parameterCount, steps: r.steps, seconds: Math.round(seconds), bytes: bytes.length, adapter: gpu.adapter.key })}\n`);
  } finally {
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}
