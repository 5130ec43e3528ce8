// Global average pooling module: [n, c, h, w] -> [n, c] (a classifier's feature vector).
import type { Dispatch } from '../gpu/kernel.ts';
import { avgPoolBackward, avgPoolForward, type AvgPoolShape } from '../kernels/avgpool.ts';
import type { Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

export class GlobalAvgPool implements Module {
  readonly output: string;
  readonly shape: AvgPoolShape;
  private readonly inputGrad: boolean;

  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
    opts: { output?: string; inputGrad?: boolean } = {},
  ) {
    const [n, c, ...spatial] = graph.shape(input) as number[];
    this.shape = { n: n!, c: c!, hw: spatial.reduce((a, x) => a * x, 1) };
    this.output = graph.tensor(opts.output ?? `${name}:out`, [n!, c!]);
    this.inputGrad = graph.training && (opts.inputGrad ?? true);
    if (graph.training) {
      graph.grad(this.output);
      if (this.inputGrad) graph.grad(input);
    }
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    return avgPoolForward(b.gpu, b.t(this.input), b.t(this.output), this.shape);
  }

  async backward(b: Buffers): Promise<Dispatch[]> {
    if (!this.inputGrad) return [];
    return avgPoolBackward(b.gpu, b.d(this.output), b.d(this.input), this.shape, { accumulate: b.accumulate(this.input) });
  }
}
