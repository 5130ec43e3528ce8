import { elementwise, type ElementwiseOp } from '../../../src/kernels/elementwise.ts';
import type { BrowserCase } from './types.ts';

export const cases: Record<string, BrowserCase> = {
  async elementwise(gpu, { op, a, b, alpha }: { op: ElementwiseOp; a: number[]; b: number[]; alpha: number }) {
    const ta = gpu.upload(Float32Array.from(a));
    const tb = gpu.upload(Float32Array.from(b));
    const out = gpu.tensor([a.length]);
    gpu.recorder().dispatch(await elementwise(gpu, op, out, ta, tb, alpha)).submit();
    return Array.from(await gpu.read(out));
  },
};
