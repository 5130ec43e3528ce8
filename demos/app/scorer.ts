// Quality scores in the demo (inside the worker): samples of the current weights scored against the
// held-out MNIST digits with the shipped classifier (docs/quality.md). The weights file carries the
// reference statistics and the real-digit floor, so nothing else is downloaded. MNIST-shaped models
// (1x32x32) only.
import type { Gpu } from '../../src/gpu/gpu.ts';
import { EngineError } from '../../src/gpu/errors.ts';
import type { UNetConfig } from '../../src/nn/config.ts';
import type { SamplerKind } from '../../src/diffusion/samplers.ts';
import type { Schedule } from '../../src/diffusion/schedule.ts';
import type { Corruption } from '../../src/diffusion/types.ts';
import { decodeClassifierWeights, type ClassifierWeights } from '../../src/eval/classifier-weights.ts';
import { Evaluator } from '../../src/eval/evaluator.ts';
import { EvalSampler } from '../../src/eval/sample-set.ts';
import type { DemoScores } from './protocol.ts';
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

export interface SamplingSetup {
  config: UNetConfig;
  corruption: Corruption;
  noise: Schedule;
  priorBank: Float32Array;
  steps: number;
  sampler: SamplerKind;
}

/** Whether the demo can score this model (the classifier takes 1x32x32 images). */
export const scorable = (c: UNetConfig) => c.inChannels === 1 && c.imageSize === 32;

/** Planned at the first score of a session; released with it. */
export class Scorer {
  private sampler: EvalSampler | null = null;
  private evaluator: Evaluator | null = null;
  private weights: ClassifierWeights | null = null;

  constructor(
    private readonly gpu: Gpu,
    private readonly setup: SamplingSetup,
  ) {}

  /** Scores of `count` samples (seed 0, batches of up to 64) of the given U-Net weights. */
  async score(unetWeights: Float32Array, count: number, step: number): Promise<DemoScores> {
    if (!scorable(this.setup.config)) throw new EngineError('Scores are for MNIST-shaped models (1x32x32).', 'Train on MNIST (or load an MNIST checkpoint) to see them.');
    const t0 = performance.now();
    this.weights ??= await classifierWeights();
    this.evaluator ??= await Evaluator.create(this.gpu, { weights: this.weights });
    const batch = Math.min(count, 64);
    if (this.sampler?.batch !== batch) {
      this.sampler?.destroy();
      this.sampler = await EvalSampler.create(this.gpu, { ...this.setup, langevinStepsPerLevel: 5, batch });
    }
    this.sampler.setWeights(unetWeights);
    const s = await this.evaluator.score(await this.sampler.sample(count, 0));
    return {
      step,
      count,
      sampler: this.setup.sampler,
      steps: this.setup.steps,
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
    this.sampler?.destroy();
    this.evaluator?.destroy();
    this.sampler = null;
    this.evaluator = null;
  }
}
