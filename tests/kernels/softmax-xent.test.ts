import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { f32, f64, randn, rng } from '../helpers/random.ts';
import { softmaxCrossEntropy, softmaxRows } from '../../src/kernels/softmax-xent.ts';
import { crossEntropyBackwardRef, crossEntropyRef, softmaxRef } from '../reference/softmax-xent.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

function labelsFor(n: number, k: number, seed: number): Uint32Array {
  const u = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(u() * k));
}

describe('softmax cross-entropy (softmax_xent.wgsl)', () => {
  test('reference: the gradient of the mean loss matches finite differences', () => {
    const n = 4;
    const k = 5;
    const labels = labelsFor(n, k, 3);
    checkGradients(
      ([z]) => Float64Array.of(crossEntropyRef(z!, labels, n, k).loss),
      ([z], g) => [crossEntropyBackwardRef(z!, labels, n, k).map((v) => v * g[0]!)],
      [randn(n * k, 1, 3)],
      { names: ['logits'] },
    );
  });

  test('reference: known values (uniform logits give log k; a confident right row gives ~0)', () => {
    expect(crossEntropyRef(new Float64Array(10), [3], 1, 10).loss).toBeCloseTo(Math.log(10), 12);
    const z = Float64Array.from({ length: 10 }, (_, c) => (c === 7 ? 50 : 0));
    expect(crossEntropyRef(z, [7], 1, 10).loss).toBeLessThan(1e-20);
    expect(crossEntropyRef(z, [7], 1, 10).accuracy).toBe(1);
  });

  // One row, the classifier's 10 classes at batch 64 and 257 (grid tail, several lanes per sum), and
  // large logits (max subtraction keeps exp finite).
  const shapes = [
    { n: 1, k: 10, scale: 1 },
    { n: 64, k: 10, scale: 3 },
    { n: 257, k: 10, scale: 2 },
    { n: 33, k: 3, scale: 40 },
  ];
  for (const s of shapes)
    test(`GPU softmax and cross-entropy n ${s.n}, k ${s.k}, logit scale ${s.scale}`, async () => {
      const { gpu } = ctx;
      const z64 = f64(f32(randn(s.n * s.k, 5, s.scale)));
      const labels = labelsFor(s.n, s.k, 9);
      const z = gpu.upload(f32(z64), [s.n, s.k]);
      const lab = gpu.upload(labels, [s.n]);
      const probs = gpu.tensor([s.n, s.k]);
      const probsOnly = gpu.tensor([s.n, s.k]);
      const dLogits = gpu.tensor([s.n, s.k]);
      const rows = gpu.tensor([s.n, 2]);
      const out = gpu.tensor([2]);
      gpu
        .recorder()
        .run(await softmaxRows(gpu, z, probsOnly, s))
        .run(await softmaxCrossEntropy(gpu, { logits: z, labels: lab, probs, dLogits, rows, out }, s))
        .submit();
      // float32 exp/log of arguments up to ~100 in size: relative errors ~1e-6; the mean of n rows
      // adds n roundings of values of size ~scale.
      const p = softmaxRef(z64, s.n, s.k);
      expectClose(await gpu.read(probsOnly), p, { atol: 1e-6, rtol: 1e-5, label: 'softmax_rows' });
      expectClose(await gpu.read(probs), p, { atol: 1e-6, rtol: 1e-5, label: 'xent probs' });
      expectClose(await gpu.read(dLogits), crossEntropyBackwardRef(z64, labels, s.n, s.k), { atol: 1e-7, rtol: 1e-5, label: 'dLogits' });
      const ref = crossEntropyRef(z64, labels, s.n, s.k);
      const [loss, acc] = await gpu.read(out);
      expectClose([loss!], [ref.loss], { atol: 1e-5, rtol: 1e-5, label: 'mean loss' });
      expect(acc).toBeCloseTo(ref.accuracy, 6);
    });

  test('bad shapes and dtypes get typed errors', async () => {
    const { gpu } = ctx;
    const t = (n: number) => gpu.tensor([n]);
    const s = { n: 2, k: 3 };
    await expect(softmaxRows(gpu, t(5), t(6), s)).rejects.toThrow(ShapeError);
    await expect(softmaxRows(gpu, t(6), t(6), { n: 0, k: 3 })).rejects.toThrow(ValueError);
    const labelsF32 = t(2);
    await expect(softmaxCrossEntropy(gpu, { logits: t(6), labels: labelsF32, probs: t(6), dLogits: t(6), rows: t(4), out: t(2) }, s)).rejects.toThrow(ShapeError);
  });
});
