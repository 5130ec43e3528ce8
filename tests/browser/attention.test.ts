import { describe, test } from 'vitest';
import { useBrowser } from '../helpers/browser.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { ATTENTION_VARIANTS } from '../../src/kernels/attention.ts';
import { attentionBackwardRef, attentionRef } from '../reference/attention.ts';

const ctx = useBrowser();

type Out = { o: number[]; lse: number[]; dq: number[]; dk: number[]; dv: number[] };

describe('attention in headless Chromium', () => {
  // 7x7 positions, 2 heads of width 3 (c = 6, not a multiple of 4), batch 2.
  const shapes = [
    { n: 2, c: 6, L: 49, heads: 2 },
    { n: 1, c: 5, L: 16, heads: 1 },
  ];
  for (const variant of ATTENTION_VARIANTS)
    for (const s of shapes)
      test(`${variant}: forward and backward match float64 (n ${s.n}, c ${s.c}, L ${s.L}, heads ${s.heads})`, async () => {
        const m = s.n * s.c * s.L;
        const [q, k, v, dO] = [1, 2, 3, 4].map((seed) => randn(m, seed));
        const r = await ctx.run<Out>('attention', { s, q: Array.from(q!), k: Array.from(k!), v: Array.from(v!), dO: Array.from(dO!), variant });
        const ref = attentionRef(q!, k!, v!, s);
        const g = attentionBackwardRef(q!, k!, v!, dO!, s);
        // Same tolerances as the Node tests (float32 sums of d and L terms).
        const fwd = { atol: 2e-5, rtol: 1e-4 };
        const bwd = { atol: 5e-5, rtol: 1e-3 };
        expectClose(r.o, ref.o, { ...fwd, label: 'o' });
        expectClose(r.lse, ref.lse, { ...fwd, label: 'lse' });
        expectClose(r.dq, g.dq, { ...bwd, label: 'dq' });
        expectClose(r.dk, g.dk, { ...bwd, label: 'dk' });
        expectClose(r.dv, g.dv, { ...bwd, label: 'dv' });
      });
});
