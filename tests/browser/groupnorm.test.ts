import { describe, test } from 'vitest';
import { useBrowser } from '../helpers/browser.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, f32 } from '../helpers/random.ts';
import { groupNormBackwardRef, groupNormRef } from '../reference/groupnorm.ts';
import type { GroupNormShape } from '../../src/kernels/groupnorm.ts';

const ctx = useBrowser();

interface Outputs {
  y: number[];
  stats: number[];
  dx: number[];
  dgamma: number[];
  dbeta: number[];
}

// Batch 1 with odd sizes and 2 channels per group; and a large group (8 x 32x32) with a mean offset.
const shapes: { s: GroupNormShape; offset: number }[] = [
  { s: { n: 1, c: 6, hw: 35, groups: 3, eps: 1e-5, silu: true }, offset: 0.3 },
  { s: { n: 2, c: 16, hw: 1024, groups: 2, eps: 1e-5, silu: true }, offset: 4 },
];

describe('GroupNorm in headless Chromium against the float64 reference', () => {
  for (const variant of ['serial', 'tree'] as const)
    for (const { s, offset } of shapes)
      test(`${variant}: ${s.n}x${s.c}x${s.hw}, ${s.groups} groups`, async () => {
        const size = s.n * s.c * s.hw;
        // Inputs rounded to float32 on this side, so both sides see the same numbers.
        const x = f32(randn(size, 11, 1.5).map((v) => v + offset));
        const gamma = f32(randn(s.c, 12).map((v) => 1 + 0.3 * v));
        const beta = f32(randn(s.c, 13, 0.4));
        const dy = f32(randn(size, 14));
        const out = await ctx.run<Outputs>('groupnorm', { s, variant, x: Array.from(x), gamma: Array.from(gamma), beta: Array.from(beta), dy: Array.from(dy) });
        const [xd, gd, bd] = [Float64Array.from(x), Float64Array.from(gamma), Float64Array.from(beta)];
        const ref = groupNormRef(xd, gd, bd, s);
        const grads = groupNormBackwardRef(xd, gd, bd, Float64Array.from(dy), s);
        // Same tolerances as the Node kernel tests (tests/kernels/groupnorm.test.ts).
        expectClose(out.y, ref.y, { atol: 5e-6, rtol: 1e-5, label: 'y' });
        expectClose(out.stats, ref.stats, { atol: 1e-6, rtol: 1e-5, label: 'stats' });
        expectClose(out.dx, grads.dx, { atol: 1e-5, rtol: 1e-5, label: 'dx' });
        expectClose(out.dgamma, grads.dgamma, { atol: 2e-5, rtol: 1e-5, label: 'dgamma' });
        expectClose(out.dbeta, grads.dbeta, { atol: 2e-5, rtol: 1e-5, label: 'dbeta' });
      });
});
