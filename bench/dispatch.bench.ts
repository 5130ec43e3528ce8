// What one dispatch costs the adapter by itself: N copies of the smallest engine dispatch (addInto on
// one float: one workgroup, one thread doing work) recorded into one pass and one submit, for
// N = 1, 100, 1000 (--counts=...). ms and, on lavapipe, workMs (bench/timing.ts) per submit and per
// dispatch. On a software adapter this is the floor under a step's dispatch count: a U-Net step of
// ~350 dispatches pays N x perDispatch of it whatever the kernels compute.
import { addInto } from '../src/kernels/accumulate.ts';
import type { Bench } from './types.ts';
import { timeWithCpu } from './timing.ts';

export const bench: Bench = {
  name: 'dispatch',
  description: 'cost of one dispatch: N (--counts=1,100,1000) one-float dispatches in one submit, --reps=5',
  async run(gpu, opts, emit) {
    const counts = (opts.counts ?? '1,100,1000').split(',').map(Number);
    const reps = Number(opts.reps ?? 5);
    const x = gpu.upload(new Float32Array([1]), [1], 'dispatch:x');
    const y = gpu.tensor([1], 'dispatch:y');
    const d = await addInto(gpu, x, y);
    for (const n of counts) {
      const { ms, workMs, cpuMs } = await timeWithCpu(gpu, Array<typeof d>(n).fill(d), reps);
      emit({ bench: 'dispatch', shape: { dispatches: n }, ms, cpuMs, workMs, msPerDispatch: ms / n, workMsPerDispatch: workMs === undefined ? undefined : workMs / n });
    }
    gpu.release(x);
    gpu.release(y);
  },
};
