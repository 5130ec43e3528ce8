// Nearest-neighbour 2x upsampling (each pixel repeated 2x2); its backward sums each 2x2 block.
import type { Dispatch } from '../gpu/kernel.ts';
import { upsample2xBackward, upsample2xForward } from '../kernels/upsample.ts';
import type { Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

export class Upsample2x implements Module {
  readonly output: string;
  readonly shape: { n: number; c: number; h: number; w: number };

  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
  ) {
    const [n, c, h, w] = graph.shape(input) as [number, number, number, number];
    this.shape = { n, c, h, w };
    this.output = graph.tensor(`${name}:out`, [n, c, 2 * h, 2 * w]);
    if (graph.training) {
      graph.grad(this.output);
      graph.grad(input);
    }
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    return upsample2xForward(b.gpu, b.t(this.input), b.t(this.output), this.shape);
  }

  backward(b: Buffers): Promise<Dispatch[]> {
    return upsample2xBackward(b.gpu, b.d(this.output), b.d(this.input), this.shape, { accumulate: b.accumulate(this.input) });
  }
}
