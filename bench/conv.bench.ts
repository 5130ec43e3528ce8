// Convolution throughput at the U-Net's real shapes: forward, input gradient and weight (+ bias)
// gradient, per variant. gflops counts 2 x multiply-adds of the convolution itself (the same for all
// three passes), so the passes compare at equal FLOPs.
// Options: --variant=direct|tiled|gemm|winograd (default: all), --n=8 (batch), --reps=5, --only=<shape name>.
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dOutSize, CONV2D_VARIANTS, type Conv2dShape } from '../src/kernels/conv2d.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';
import type { Bench } from './types.ts';

const SHAPES: [string, Omit<Conv2dShape, 'n'>][] = [
  ['32->32@32', { cin: 32, h: 32, w: 32, cout: 32, k: 3, stride: 1, pad: 1 }],
  ['64->64@16', { cin: 64, h: 16, w: 16, cout: 64, k: 3, stride: 1, pad: 1 }],
  ['64->64@8', { cin: 64, h: 8, w: 8, cout: 64, k: 3, stride: 1, pad: 1 }],
  ['128->64@16', { cin: 128, h: 16, w: 16, cout: 64, k: 3, stride: 1, pad: 1 }],
  ['32->32@32/2', { cin: 32, h: 32, w: 32, cout: 32, k: 3, stride: 2, pad: 1 }],
];

export const bench: Bench = {
  name: 'conv',
  description: 'conv2d forward / backward-input / backward-weight at U-Net shapes (--variant, --n=8, --reps=5, --only=32->32@32)',
  async run(gpu, opts, emit) {
    const n = Number(opts.n ?? 8);
    const reps = Number(opts.reps ?? 5);
    const variants = opts.variant ? [opts.variant] : [...CONV2D_VARIANTS];
    for (const [name, base] of SHAPES) {
      if (opts.only && opts.only !== name) continue;
      const s: Conv2dShape = { n, ...base };
      const { ho, wo } = conv2dOutSize(s);
      const x = gpu.tensor([n, s.cin, s.h, s.w]);
      const w = gpu.tensor([s.cout, s.cin, s.k, s.k]);
      const b = gpu.tensor([s.cout]);
      const y = gpu.tensor([n, s.cout, ho, wo]);
      gpu.write(x, Float32Array.from({ length: x.size }, (_, i) => Math.sin(i)));
      gpu.write(w, Float32Array.from({ length: w.size }, (_, i) => Math.cos(i) * 0.1));
      gpu.write(y, Float32Array.from({ length: y.size }, (_, i) => Math.sin(3 * i)));
      const flops = 2 * n * s.cout * ho * wo * s.cin * s.k * s.k;
      for (const variant of variants) {
        const passes: [string, Dispatch[]][] = [
          ['forward', await conv2dForward(gpu, x, w, b, y, s, { variant })],
          ['backward_input', await conv2dBackwardInput(gpu, y, w, x, s, { variant })],
          ['backward_weight', await conv2dBackwardWeight(gpu, x, y, w, b, s, { variant })],
        ];
        for (const [pass, ds] of passes) {
          // A first run outside the timing: a software adapter may compile the pipeline at first use.
          gpu.recorder('conv warm-up').run(ds).submit();
          await gpu.done();
          const cpu0 = cpuMs();
          const ms = await timeDispatches(gpu, ds, reps);
          // CPU time of the whole process per run (Node only): on a software adapter this is the work
          // itself, and unlike wall time it does not grow when other processes share the cores.
          const cpu = cpu0 === null ? null : (cpuMs()! - cpu0) / (reps + 1);
          emit({ bench: 'conv', shape: { name, n, ...base, ho, wo }, pass, variant, ms: round(ms), gflops: round(flops / ms / 1e6), ...(cpu === null ? {} : { cpuMs: round(cpu) }) });
        }
      }
      for (const t of [x, w, b, y]) gpu.release(t);
    }
  },
};

/** Process CPU time in ms where the runtime has it (Node), else null. */
function cpuMs(): number | null {
  const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!proc?.cpuUsage) return null;
  const u = proc.cpuUsage();
  return (u.user + u.system) / 1000;
}

const round = (v: number) => Math.round(v * 1000) / 1000;
