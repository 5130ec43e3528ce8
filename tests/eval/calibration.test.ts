// Calibration of the shipped metric (assets/mnist-classifier.safetensors, reference = the 2,000
// held-out MNIST digits): real digits the classifier was not scored on sit near the floor, and the
// Fréchet distance rises monotonically as the same digits are blurred (std 1, 2, 4 px), noised (std 0.1,
// 0.3) or speckled (5%, 20% of the pixels); pure noise scores far worse than any of them; the same
// images give the same score. 256 digits per row keeps the file at a few tens of seconds on lavapipe.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { loadMnist } from '../../src/node/datasets.ts';
import { readClassifierWeights } from '../../src/node/classifier-asset.ts';
import { Evaluator, type QualityScores } from '../../src/eval/evaluator.ts';
import { realImages } from '../../src/eval/reference.ts';
import { distort, describeDistortion, type Distortion } from '../../src/eval/distortions.ts';

const ctx = useGpu();
const COUNT = 256;
const ROWS: (Distortion | null)[] = [
  null,
  { kind: 'blur', amount: 1 },
  { kind: 'blur', amount: 2 },
  { kind: 'blur', amount: 4 },
  { kind: 'noise', amount: 0.1 },
  { kind: 'noise', amount: 0.3 },
  { kind: 'speckle', amount: 0.05 },
  { kind: 'speckle', amount: 0.2 },
  { kind: 'uniform', amount: 0 },
];

let evaluator: Evaluator;
const scores = new Map<string, QualityScores>();
let real: Float32Array;

beforeAll(async () => {
  const weights = await readClassifierWeights();
  const data = loadMnist();
  // The reference statistics stored with the weights (tests/cli/eval.test.ts checks them against MNIST).
  evaluator = await Evaluator.create(ctx.gpu, { weights });
  real = realImages(data, data.labels, weights.info, COUNT, 0);
  for (const d of ROWS) scores.set(d ? describeDistortion(d) : 'real', await evaluator.score(d ? distort(real, 32, d, 1) : real));
  // The table behind docs/quality.md's calibration section (the CLI gives the same rows at any count).
  for (const [name, s] of scores) console.log(JSON.stringify({ row: name, count: COUNT, fd: +s.fd.toFixed(2), precision: s.precision, recall: s.recall, classEntropy: +s.classEntropy.toFixed(3), confidence: +s.confidence.toFixed(3), dctFd: +s.dctFd.toFixed(3) }));
  // Tens of seconds on an idle lavapipe; the limit only guards against a hang on a loaded machine.
}, 900_000);
afterAll(() => evaluator?.destroy());

const fd = (row: string) => scores.get(row)!.fd;

describe('calibration of the shipped metric', () => {
  test('real digits: near the floor on every metric', () => {
    const s = scores.get('real')!;
    expect(fd('real')).toBeLessThan(0.25 * fd('blur:1'));
    expect(s.precision).toBeGreaterThan(0.85);
    expect(s.recall).toBeGreaterThan(0.85);
    expect(s.classEntropy).toBeGreaterThan(0.98);
    expect(s.confidence).toBeGreaterThan(0.9);
  });

  test('the Fréchet distance rises monotonically with blur, noise and speckle', () => {
    for (const chain of [['real', 'blur:1', 'blur:2', 'blur:4'], ['real', 'noise:0.1', 'noise:0.3'], ['real', 'speckle:0.05', 'speckle:0.2']])
      for (let i = 1; i < chain.length; i++) expect(fd(chain[i]!), `${chain[i]} above ${chain[i - 1]}`).toBeGreaterThan(fd(chain[i - 1]!));
  });

  test('pure noise scores far worse than any damaged digit', () => {
    const worst = Math.max(...[...scores.keys()].filter((k) => k !== 'uniform').map(fd));
    expect(fd('uniform')).toBeGreaterThan(2 * worst);
    expect(scores.get('uniform')!.precision).toBeLessThan(0.05);
  });

  test('the same images give the same score', async () => {
    expect(await evaluator.score(real)).toEqual(scores.get('real'));
  });
});
