// Quality scores in the demo (inside the worker): samples of the current weights scored against the
// held-out MNIST digits with the shipped classifier (docs/quality.md). The weights file carries the
// reference statistics and the real-digit floor, so nothing else is downloaded. MNIST-shaped models
// (1x32x32) only.
import type { Gpu } from '../../src/gpu/gpu.ts';
import { EngineError, ValueError } from '../../src/gpu/errors.ts';
import type { UNetConfig } from '../../src/nn/config.ts';
import type { SamplerKind } from '../../src/diffusion/samplers.ts';
import type { SampleOptions, Samples } from '../../src/api/sampling.ts';
import { decodeClassifierWeights, type ClassifierWeights } from '../../src/eval/classifier-weights.ts';
import { Evaluator } from '../../src/eval/evaluator.ts';
import { batchSeed } from '../../src/eval/sample-set.ts';
import { SCORE_COUNT, type DemoScores } from './protocol.ts';
import classifierUrl from '../../assets/mnist-classifier.safetensors?url';

let weightsFile: Promise<ClassifierWeights> | null = null;

function classifierWeights(): Promise<ClassifierWeights> {
  weightsFile ??= fetch(classifierUrl).then(async (r) => {
    if (!r.ok) throw new EngineError(`Could not fetch the classifier weights: HTTP ${r.status}.`, 'Serve the demo with `npm run demo`.');
    return decodeClassifierWeights(new Uint8Array(await r.arrayBuffer()), 'mnist-classifier.safetensors');
  });
  weightsFile.catch(() => (weightsFile = null));
  return weightsFile;
}

/** What the scorer samples from: a loaded model or a trainer of the one-call API (EMA weights). */
export interface SampleSource {
  sample(o: SampleOptions): Promise<Samples>;
}

/** Whether the demo can score this model (the classifier takes 1x32x32 images). */
export const scorable = (c: UNetConfig) => c.inChannels === 1 && c.imageSize === 32;

/** Annealed Langevin steps per level when scoring in the demo (as in its previews). */
const LANGEVIN_STEPS = 5;

/** Images per sampler call and per classifier pass. */
const SCORE_BATCH = 64;

/** The classifier is loaded at the first score of a session and released with it. */
export class Scorer {
  private evaluator: Evaluator | null = null;
  private weights: ClassifierWeights | null = null;

  constructor(private readonly gpu: Gpu) {}

  /**
   * Scores of `count` samples of `source` with its default sampler and steps, drawn in batches of up
   * to 64 with the evaluation's fixed seed set (batch i: batchSeed(0, i); src/eval/sample-set.ts).
   */
  async score(source: SampleSource, count: number, m: { step: number; config: UNetConfig; sampler: SamplerKind; steps: number }): Promise<DemoScores> {
    if (!scorable(m.config)) throw new EngineError('Scores are for MNIST-shaped models (1x32x32).', 'Train on MNIST (or load an MNIST checkpoint) to see them.');
    if (!Number.isInteger(count) || count < SCORE_COUNT.min || count > SCORE_COUNT.max)
      throw new ValueError(`Samples to score must be a whole number from ${SCORE_COUNT.min} to ${SCORE_COUNT.max}, got ${count}.`, 'Set the number next to the Score button.');
    const t0 = performance.now();
    this.weights ??= await classifierWeights();
    // Classifier passes of 64 images, as the sampling batches: a last partial pass is padded, and a
    // small count on a software adapter should not pay for 250 blank images.
    this.evaluator ??= await Evaluator.create(this.gpu, { weights: this.weights, batch: SCORE_BATCH });
    const batch = Math.min(count, SCORE_BATCH);
    const per = m.config.inChannels * m.config.imageSize ** 2;
    const images = new Float32Array(count * per);
    for (let i = 0; i * batch < count; i++) {
      const r = await source.sample({ count: batch, seed: batchSeed(0, i), langevinSteps: LANGEVIN_STEPS });
      const n = Math.min(batch, count - i * batch);
      images.set(r.images.subarray(0, n * per), i * batch * per);
    }
    const s = await this.evaluator.score(images);
    return {
      step: m.step,
      count,
      sampler: m.sampler,
      steps: m.steps,
      fd: s.fd,
      precision: s.precision,
      recall: s.recall,
      classEntropy: s.classEntropy,
      confidence: s.confidence,
      realFd: this.weights.info.realFd?.[String(count)],
      seconds: (performance.now() - t0) / 1000,
    };
  }

  destroy(): void {
    this.evaluator?.destroy();
    this.evaluator = null;
  }
}
