// Convolution throughput at the U-Net's real shapes: forward, input gradient and weight (+ bias)
// gradient, per variant. gflops counts 2 x multiply-adds of the convolution itself (the same for all
// three passes), so the passes compare at equal FLOPs.
// Options: --variant=direct,winograd4,... (default: all), --n=8 (batch), --reps=5, --only=<shape name>,
// --shapes=cin->cout@size[/2],... instead of the U-Net's shapes below.
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dOutSize, CONV2D_VARIANTS, type Conv2dShape } from '../src/kernels/conv2d.ts';
import { timeWithCpu } from './timing.ts';
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
    const variants = opts.variant ? opts.variant.split(',') : [...CONV2D_VARIANTS];
    for (const [name, base] of opts.shapes ? opts.shapes.split(',').map(parseShape) : SHAPES) {
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
          // CPU time of the cheapest run (Node only): on a software adapter this is the work itself,
          // and unlike wall time it does not grow when other processes share the cores.
          const { ms, cpuMs: cpu, workMs } = await timeWithCpu(gpu, ds, reps);
          emit({ bench: 'conv', shape: { name, n, ...base, ho, wo }, pass, variant, ms: round(ms), gflops: round(flops / ms / 1e6), ...(cpu === undefined ? {} : { cpuMs: round(cpu) }), ...(workMs === undefined ? {} : { workMs: round(workMs) }) });
        }
      }
      for (const t of [x, w, b, y]) gpu.release(t);
    }
  },
};

/** `cin->cout@size` (3x3 stride 1) or `cin->cout@size/2` (stride 2), as the names in SHAPES. */
function parseShape(name: string): [string, Omit<Conv2dShape, 'n'>] {
  const m = /^(\d+)->(\d+)@(\d+)(\/2)?$/.exec(name);
  if (!m) throw new Error(`--shapes: ${name} is not cin->cout@size or cin->cout@size/2`);
  const size = Number(m[3]);
  return [name, { cin: Number(m[1]), cout: Number(m[2]), h: size, w: size, k: 3, stride: m[4] ? 2 : 1, pad: 1 }];
}

const round = (v: number) => Math.round(v * 1000) / 1000;
