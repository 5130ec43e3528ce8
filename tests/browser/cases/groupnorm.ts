import { groupNormBackward, groupNormForward, type GroupNormShape, type GroupNormVariant } from '../../../src/kernels/groupnorm.ts';
import type { BrowserCase } from './types.ts';

export interface GroupNormCaseArgs {
  s: GroupNormShape;
  variant: GroupNormVariant;
  x: number[];
  gamma: number[];
  beta: number[];
  dy: number[];
}

export const cases: Record<string, BrowserCase> = {
  /** GroupNorm forward then backward on the page's adapter; returns every output. */
  async groupnorm(gpu, { s, variant, x, gamma, beta, dy }: GroupNormCaseArgs) {
    const up = (a: number[]) => gpu.upload(Float32Array.from(a));
    const [tx, tg, tb, tdy] = [up(x), up(gamma), up(beta), up(dy)];
    const y = gpu.tensor([x.length]);
    const stats = gpu.tensor([s.n * s.groups * 2]);
    const dx = gpu.tensor([x.length]);
    const dgamma = gpu.tensor([s.c]);
    const dbeta = gpu.tensor([s.c]);
    const fwd = await groupNormForward(gpu, tx, tg, tb, y, stats, s, { variant });
    const bwd = await groupNormBackward(gpu, tx, tg, tb, stats, tdy, dx, dgamma, dbeta, s, { variant });
    gpu.recorder().run(fwd).run(bwd).submit();
    const read = async (t: typeof y) => Array.from(await gpu.read(t));
    const out = { y: await read(y), stats: await read(stats), dx: await read(dx), dgamma: await read(dgamma), dbeta: await read(dbeta) };
    for (const t of [tx, tg, tb, tdy, y, stats, dx, dgamma, dbeta]) gpu.release(t);
    return out;
  },
};
