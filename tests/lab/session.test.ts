// A whole lab run (src/lab/session.ts) as the CLI and the page use it: train with evaluations, the
// fields, Langevin samples, pictures and the report; destroy() returns the device's buffer census
// exactly to its baseline. Also the pictures' geometry and the learning-rate decay.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { LabSession } from '../../src/lab/session.ts';
import { densityImage, drawArrows, blank, toPixel, viewBox, niceStep } from '../../src/lab/render.ts';
import { namedDensity } from '../../src/lab/densities.ts';

const ctx = useGpu();

describe('a lab session', () => {
  test('trains, draws, samples, reports, and releases every buffer', async () => {
    const { gpu } = ctx;
    const base = gpu.census.snapshot();
    for (const objective of ['ssm', 'ncsn', 'dae'] as const) {
      const s = await LabSession.create(gpu, { density: 'grid', objective, model: { width: 8, depth: 1 }, batch: 32, lr: 0.01, evalPoints: 256, levels: 3, langevin: { chains: 32, steps: 4 } });
      await s.train(6, { every: 3 });
      expect(s.curve.map((p) => p.step)).toEqual([0, 3, 6]);
      // the learning rate decayed geometrically towards lr * 0.1 over the 6 steps (set before step 3)
      expect(s.trainer.optimizer.learningRate).toBeCloseTo(0.01 * 0.1 ** (3 / 6), 9);
      const field = await s.field(5, 64);
      expect(field.learned.length).toBe(50);
      expect(field.target !== null).toBe(objective === 'dae');
      const x = await s.samples();
      expect(x.length).toBe(64);
      const pics = s.pictures(field, x, 64);
      expect(pics.field.width).toBe(objective === 'dae' ? 3 * 64 + 16 : 2 * 64 + 8);
      const r = s.report(x) as { final: { esm: number }; samples: { chains: number }; timing: { steps: number } };
      expect(Number.isFinite(r.final.esm)).toBe(true);
      expect(r.samples.chains).toBe(32);
      s.destroy();
      expect(gpu.census.snapshot(), `${objective}: census back to baseline`).toEqual(base);
    }
  });

  test('pictures: the view box is square around the density; arrows point along the vector', () => {
    const p = namedDensity('moons');
    const box = viewBox(p);
    expect(box.hi[0] - box.lo[0]).toBeCloseTo(box.hi[1] - box.lo[1], 12);
    expect(toPixel(box, 100, box.lo[0], box.hi[1])).toEqual([0, 0]);
    const img = densityImage(p, box, 32);
    expect(img.data.some((v) => v > 200)).toBe(true);
    // an arrow from the centre pointing right (+x) lights pixels right of centre only
    const a = blank(41, 41, [0, 0, 0]);
    const b = { lo: [-1, -1] as [number, number], hi: [1, 1] as [number, number] };
    drawArrows(a, b, [0, 0], [5, 0], [255, 255, 255], 20, 1);
    let left = 0;
    let right = 0;
    for (let y = 0; y < 41; y++)
      for (let x = 0; x < 41; x++) {
        const v = a.data[3 * (y * 41 + x)]!;
        if (x < 19) left += v;
        if (x > 21) right += v;
      }
    expect(left).toBe(0);
    expect(right).toBeGreaterThan(1000);
    expect(niceStep(0, 97)).toBe(20);
  });
});
