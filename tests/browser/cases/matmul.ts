import { matmul, type MatmulVariant } from '../../../src/kernels/matmul.ts';
import { reduce, reduceRows, type ReduceOp } from '../../../src/kernels/reduce.ts';
import type { BrowserCase } from './types.ts';

export const cases: Record<string, BrowserCase> = {
  async matmul(gpu, { a, b, M, N, K, transA, transB, variant }: { a: number[]; b: number[]; M: number; N: number; K: number; transA: boolean; transB: boolean; variant: MatmulVariant }) {
    const A = gpu.upload(Float32Array.from(a), transA ? [K, M] : [M, K]);
    const B = gpu.upload(Float32Array.from(b), transB ? [N, K] : [K, N]);
    const C = gpu.tensor([M, N]);
    gpu.recorder().run(await matmul(gpu, A, B, C, { transA, transB, variant })).submit();
    const out = Array.from(await gpu.read(C));
    for (const t of [A, B, C]) gpu.release(t);
    return out;
  },
  async reduce(gpu, { x, op, rows }: { x: number[]; op: ReduceOp; rows?: number }) {
    const t = gpu.upload(Float32Array.from(x), rows ? [rows, x.length / rows] : [x.length]);
    const out = gpu.tensor([rows ?? 1]);
    const rec = gpu.recorder();
    if (rows) rec.dispatch(await reduceRows(gpu, op, t, out));
    else rec.run(await reduce(gpu, op, t, out));
    rec.submit();
    return Array.from(await gpu.read(out));
  },
};
