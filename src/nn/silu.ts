// SiLU module: y = x * sigmoid(x) (used where it is not fused into a GroupNorm: the time MLP).
import type { Dispatch } from '../gpu/kernel.ts';
import { elementwise } from '../kernels/elementwise.ts';
import type { Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

export class Silu implements Module {
  readonly output: string;
  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
  ) {
    this.output = graph.tensor(`${name}:out`, graph.shape(input));
    if (graph.training) {
      graph.grad(this.output);
      graph.grad(input);
    }
  }

  async forward(b: Buffers): Promise<Dispatch[]> {
    return [await elementwise(b.gpu, 'silu', b.t(this.output), b.t(this.input))];
  }

  async backward(b: Buffers): Promise<Dispatch[]> {
    // elementwise silu_backward overwrites; the time MLP's activations have a single consumer.
    if (b.accumulate(this.input)) throw new Error(`${this.name}: SiLU input gradient would need accumulation`);
    return [await elementwise(b.gpu, 'silu_backward', b.d(this.input), b.t(this.input), b.d(this.output))];
  }
}
