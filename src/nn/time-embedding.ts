// The time embedding: sinusoidal features of 1000 t (half sines, half cosines, frequencies
// exp(-ln(10000) k / half)), Dense, SiLU, Dense = temb; every residual block reads SiLU(temb), which
// is computed once here (its gradient accumulates over all blocks).
import type { Dispatch } from '../gpu/kernel.ts';
import { timeEmbedding } from '../kernels/timeembed.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import { Linear } from './linear.ts';
import { Silu } from './silu.ts';
import { sequence, type Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

export const TIME_SCALE = 1000;

export class TimeEmbedding implements Module {
  readonly output: string;
  private readonly features: string;
  private readonly dense0: Linear;
  private readonly act0: Silu;
  private readonly dense1: Linear;
  private readonly act1: Silu;

  constructor(
    graph: Graph,
    readonly name: string,
    /** The per-sample levels tensor [n, LEVEL_STRIDE]; t is column 0. */
    readonly levels: string,
    opts: { features: number; dim: number },
  ) {
    const n = graph.shape(levels)[0]!;
    this.features = graph.tensor(`${name}:features`, [n, opts.features]);
    this.dense0 = new Linear(graph, `${name}.dense0`, this.features, { out: opts.dim, inputGrad: false });
    this.act0 = new Silu(graph, `${name}.act0`, this.dense0.output);
    this.dense1 = new Linear(graph, `${name}.dense1`, this.act0.output, { out: opts.dim });
    this.act1 = new Silu(graph, `${name}.act1`, this.dense1.output);
    this.output = this.act1.output;
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    const [n, dim] = b.t(this.features).shape as [number, number];
    return sequence(
      timeEmbedding(b.gpu, b.t(this.levels), b.t(this.features), { n, dim, scale: TIME_SCALE, stride: LEVEL_STRIDE, offset: 0 }),
      this.dense0.forward(b),
      this.act0.forward(b),
      this.dense1.forward(b),
      this.act1.forward(b),
    );
  }

  backward(b: Buffers): Promise<Dispatch[]> {
    return sequence(this.act1.backward(b), this.dense1.backward(b), this.act0.backward(b), this.dense0.backward(b));
  }
}
