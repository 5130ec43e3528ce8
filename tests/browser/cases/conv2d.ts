import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dOutSize, type Conv2dShape } from '../../../src/kernels/conv2d.ts';
import type { BrowserCase } from './types.ts';

interface Conv2dArgs {
  s: Conv2dShape;
  variant: string;
  x: number[];
  w: number[];
  b: number[];
  dy: number[];
  prior: number[];
}

export const cases: Record<string, BrowserCase> = {
  /** Forward (with bias), backward input (overwrite, then accumulate onto `prior`), weight and bias gradients. */
  async conv2d(gpu, { s, variant, x, w, b, dy, prior }: Conv2dArgs) {
    const { ho, wo } = conv2dOutSize(s);
    const tx = gpu.upload(Float32Array.from(x), [s.n, s.cin, s.h, s.w]);
    const tw = gpu.upload(Float32Array.from(w), [s.cout, s.cin, s.k, s.k]);
    const tb = gpu.upload(Float32Array.from(b), [s.cout]);
    const tdy = gpu.upload(Float32Array.from(dy), [s.n, s.cout, ho, wo]);
    const y = gpu.tensor([s.n, s.cout, ho, wo]);
    const dx = gpu.tensor([s.n, s.cin, s.h, s.w]);
    const dxAcc = gpu.upload(Float32Array.from(prior), [s.n, s.cin, s.h, s.w]);
    const dw = gpu.tensor([s.cout, s.cin, s.k, s.k]);
    const db = gpu.tensor([s.cout]);
    const ds = [
      ...(await conv2dForward(gpu, tx, tw, tb, y, s, { variant })),
      ...(await conv2dBackwardInput(gpu, tdy, tw, dx, s, { variant })),
      ...(await conv2dBackwardInput(gpu, tdy, tw, dxAcc, s, { variant, accumulate: true })),
      ...(await conv2dBackwardWeight(gpu, tx, tdy, dw, db, s, { variant })),
    ];
    gpu.recorder('conv2d case').run(ds).submit();
    const out = { y: [...(await gpu.read(y))], dx: [...(await gpu.read(dx))], dxAcc: [...(await gpu.read(dxAcc))], dw: [...(await gpu.read(dw))], db: [...(await gpu.read(db))] };
    for (const t of [tx, tw, tb, tdy, y, dx, dxAcc, dw, db]) gpu.release(t);
    return out;
  },
};
