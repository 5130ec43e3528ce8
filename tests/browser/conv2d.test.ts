import { describe, test } from 'vitest';
import { useBrowser } from '../helpers/browser.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { conv2dBackwardRef, conv2dRef } from '../reference/conv2d.ts';
import { CONV2D_VARIANTS, conv2dOutSize, type Conv2dShape } from '../../src/kernels/conv2d.ts';

const ctx = useBrowser();

// Same tolerance as the Node tests: float32 sums of a few hundred products.
const TOL = { atol: 3e-4, rtol: 1e-4 };

const SHAPES: [string, Conv2dShape][] = [
  ['3x3 s1, odd 5x7, cin 5 -> cout 3', { n: 2, cin: 5, h: 5, w: 7, cout: 3, k: 3, stride: 1, pad: 1 }],
  ['3x3 s2 on odd 7x5, batch 1', { n: 1, cin: 3, h: 7, w: 5, cout: 6, k: 3, stride: 2, pad: 1 }],
  ['1x1, several tiles', { n: 2, cin: 70, h: 6, w: 6, cout: 66, k: 1, stride: 1, pad: 0 }],
  ['rows (row length a multiple of 4): 3x3 s2 on 8x8', { n: 2, cin: 4, h: 8, w: 8, cout: 5, k: 3, stride: 2, pad: 1 }],
];

describe('conv2d in headless Chromium against the float64 reference', () => {
  for (const variant of CONV2D_VARIANTS)
    for (const [name, s] of SHAPES)
      test(`${variant}: ${name}`, async () => {
        const { ho, wo } = conv2dOutSize(s);
        const x = randn(s.n * s.cin * s.h * s.w, 1);
        const w = randn(s.cout * s.cin * s.k * s.k, 2, 0.3);
        const b = randn(s.cout, 3);
        const dy = randn(s.n * s.cout * ho * wo, 4);
        const prior = randn(x.length, 5);
        const r = await ctx.run<Record<'y' | 'dx' | 'dxAcc' | 'dw' | 'db', number[]>>('conv2d', {
          s, variant, x: [...x], w: [...w], b: [...b], dy: [...dy], prior: [...prior],
        });
        const ref = conv2dBackwardRef(x, w, dy, s);
        expectClose(r.y, conv2dRef(x, w, b, s), { ...TOL, label: 'y' });
        expectClose(r.dx, ref.dx, { ...TOL, label: 'dx' });
        expectClose(r.dxAcc, ref.dx.map((v, i) => v + prior[i]!), { ...TOL, label: 'dx accumulated' });
        expectClose(r.dw, ref.dw, { ...TOL, label: 'dw' });
        expectClose(r.db, ref.db, { ...TOL, label: 'db' });
      });
});
