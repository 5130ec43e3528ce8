// The whole scoring path of a tiny classifier (8 features, so that covariances of a few dozen
// images are full rank) against float64: features from the reference network, the Gaussian fits and
// the Fréchet distance by the Denman-Beavers reference, precision/recall and class statistics by the
// brute-force references, the DCT statistics by direct cosine sums.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, randu } from '../helpers/random.ts';
import { ClassifierGraph, type ClassifierConfig } from '../../src/eval/classifier.ts';
import type { ClassifierWeights } from '../../src/eval/classifier-weights.ts';
import { Evaluator, dctSpectrum, referenceStatistics } from '../../src/eval/evaluator.ts';
import { FeatureExtractor } from '../../src/eval/features.ts';
import { initialParameters, type Graph } from '../../src/nn/plan.ts';
import { ValueError } from '../../src/gpu/errors.ts';
import { classifierRef } from '../reference/classifier.ts';
import { classStatisticsRef, frechetRef, gaussianFitRef, precisionRecallRef } from '../reference/metrics.ts';
import { softmaxRef } from '../reference/softmax-xent.ts';
import { dct2 } from '../reference/blur.ts';

const ctx = useGpu();
const cfg: ClassifierConfig = { inChannels: 1, imageSize: 8, classes: 4, widths: [4, 8], strides: [1, 2], groups: 2 };
const per = 64;

function lookup(graph: Graph, flat: ArrayLike<number>) {
  return (name: string) => {
    const e = graph.params.entries.get(name)!;
    const n = e.shape.reduce((a, b) => a * b, 1);
    return Float64Array.from({ length: n }, (_, i) => flat[e.offset + i]!);
  };
}

const graph = new ClassifierGraph(cfg, { batch: 1 }).graph;
const weights: ClassifierWeights = { config: cfg, flat: initialParameters(graph, 6), info: { dataset: 'test', heldOutFraction: 0.2, splitSeed: 0, heldOutAccuracy: 0 } };
/** Images in [0, 1] (clipping is part of what is tested: some values start outside). */
const images = (n: number, seed: number, shift = 0) => Float32Array.from(randu(n * per, seed, -0.1 + shift, 1.1 + shift));
const clip = (a: Float32Array) => Float64Array.from(a, (v) => Math.min(1, Math.max(0, v)));

describe('evaluator against float64 references', () => {
  test('features in batches (with a padded last batch) match the reference network', async () => {
    const { gpu } = ctx;
    const x = images(37, 1);
    const fx = await FeatureExtractor.create(gpu, weights, 16);
    const got = await fx.run(x);
    fx.destroy();
    const ref = classifierRef(cfg, lookup(graph, weights.flat), clip(x), 37);
    expect(got.count).toBe(37);
    expectClose(got.features, ref.features, { atol: 1e-5, rtol: 1e-4, label: 'features' });
    expectClose(got.probs, softmaxRef(ref.logits, 37, 4), { atol: 1e-5, rtol: 1e-4, label: 'probs' });
  });

  test('scores match the references; the reference scored against itself is the exact floor', async () => {
    const { gpu } = ctx;
    const reference = images(60, 2);
    const samples = images(45, 3, 0.15);
    const ev = await Evaluator.create(gpu, { weights, reference, batch: 32 });
    expect(ev.referenceCount).toBe(60);
    const s = await ev.score(samples);
    const fx = await FeatureExtractor.create(gpu, weights, 32);
    const fr = await fx.run(reference);
    const fs = await fx.run(samples);
    fx.destroy();
    // Fréchet distance of the GPU features, by other algorithms in float64.
    const fd = frechetRef(gaussianFitRef(fs.features, 8), gaussianFitRef(fr.features, 8), 8);
    expect(s.fd).toBeGreaterThan(0);
    expect(Math.abs(s.fd - fd)).toBeLessThan(1e-7 * Math.max(1, fd));
    // ... and of float64 features: float32 features move it by little.
    const r64 = (x: Float32Array, n: number) => classifierRef(cfg, lookup(graph, weights.flat), clip(x), n).features;
    const fd64 = frechetRef(gaussianFitRef(r64(samples, 45), 8), gaussianFitRef(r64(reference, 60), 8), 8);
    expect(Math.abs(s.fd - fd64)).toBeLessThan(1e-3 * fd64 + 1e-6);
    const pr = precisionRecallRef(fr.features, fs.features, 8, 3);
    expect([s.precision, s.recall]).toEqual([pr.precision, pr.recall]);
    const cls = classStatisticsRef(fs.probs, 4);
    expect(s.classHistogram).toEqual(cls.histogram);
    expect(s.classEntropy).toBeCloseTo(cls.entropy, 10);
    expect(s.confidence).toBeCloseTo(cls.confidence, 6);
    // DCT statistics by direct cosine sums; the distance of diagonal fits.
    const moments = (x: Float64Array, n: number) => {
      const coef = Array.from({ length: n }, (_, i) => dct2(x.subarray(i * per, (i + 1) * per), 8, 8));
      const mean = Float64Array.from({ length: per }, (_, q) => coef.reduce((t, c) => t + c[q]!, 0) / n);
      const variance = Float64Array.from({ length: per }, (_, q) => coef.reduce((t, c) => t + (c[q]! - mean[q]!) ** 2, 0) / n);
      return { mean, variance };
    };
    const ma = moments(clip(samples), 45);
    const mb = moments(clip(reference), 60);
    const spec = await dctSpectrum(gpu, Float32Array.from(clip(samples)), 1, 8, 20);
    expectClose(spec.mean, ma.mean, { atol: 1e-6, rtol: 1e-5, label: 'DCT mean' });
    expectClose(spec.variance, ma.variance, { atol: 1e-6, rtol: 1e-4, label: 'DCT variance' });
    const dctFd = ma.mean.reduce((t, m, q) => t + (m - mb.mean[q]!) ** 2 + (Math.sqrt(ma.variance[q]!) - Math.sqrt(mb.variance[q]!)) ** 2, 0);
    expect(s.dctFd).toBeCloseTo(dctFd, 4);
    // The reference against itself.
    const self = await ev.score(reference);
    expect(self.fd).toBeLessThan(1e-9);
    expect(self.precision).toBe(1);
    expect(self.recall).toBe(1);
    expect(self.dctFd).toBeLessThan(1e-9);
    // Too few images, or the wrong size.
    await expect(ev.score(images(3, 4))).rejects.toThrow(ValueError);
    await expect(ev.score(new Float32Array(per * 5 + 1))).rejects.toThrow(/whole number of 64-value images/);
    ev.destroy();
  });

  test('reference statistics stored with the weights give the same scores as the reference images', async () => {
    const { gpu } = ctx;
    const reference = images(50, 9);
    const x = images(30, 10, 0.1);
    const fx = await FeatureExtractor.create(gpu, weights, 32);
    const stats = await referenceStatistics(gpu, fx, reference);
    fx.destroy();
    const fromImages = await Evaluator.create(gpu, { weights, reference });
    const fromStats = await Evaluator.create(gpu, { weights: { ...weights, reference: stats } });
    const a = await fromStats.score(x);
    const b = await fromImages.score(x);
    // The DCT moments of the reference were merged over batches of 32 here and of 250 there (float32
    // batch moments): equal to rounding.
    expect(a.dctFd).toBeCloseTo(b.dctFd, 5);
    expect({ ...a, dctFd: 0 }).toEqual({ ...b, dctFd: 0 });
    fromImages.destroy();
    fromStats.destroy();
    await expect(Evaluator.create(gpu, { weights })).rejects.toThrow(/hold no reference statistics/);
  });

  test('the same images give the same scores (deterministic end to end)', async () => {
    const { gpu } = ctx;
    const ev = await Evaluator.create(gpu, { weights, reference: images(50, 7) });
    const x = Float32Array.from(randn(40 * per, 8, 0.3).map((v) => v + 0.4));
    const a = await ev.score(x);
    const b = await ev.score(x);
    expect(b).toEqual(a);
    ev.destroy();
  });
});
