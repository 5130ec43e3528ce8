// Linear module: y[n, out] = x[n, in] W^T + b, PyTorch layout (W [out, in]), computed as a 1x1
// convolution (src/kernels/linear.ts).
import type { Dispatch } from '../gpu/kernel.ts';
import { linearBackward, linearForward } from '../kernels/linear.ts';
import { fanInBound, type Module } from './module.ts';
import { convOptions } from './conv2d.ts';
import type { Buffers, Graph } from './plan.ts';

export class Linear implements Module {
  readonly output: string;
  readonly weight: string;
  readonly bias: string;
  readonly shape: { n: number; in: number; out: number };
  private readonly inputGrad: boolean;

  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
    opts: { out: number; inputGrad?: boolean; output?: string },
  ) {
    const [n, inF] = graph.shape(input) as [number, number];
    this.shape = { n, in: inF, out: opts.out };
    const init = { kind: 'uniform', bound: fanInBound(inF) } as const;
    this.weight = graph.param(`${name}.weight`, [opts.out, inF], init);
    this.bias = graph.param(`${name}.bias`, [opts.out], init);
    this.output = graph.tensor(opts.output ?? `${name}:out`, [n, opts.out]);
    this.inputGrad = graph.training && (opts.inputGrad ?? true);
    graph.flops.forward += 2 * n * inF * opts.out;
    if (graph.training) graph.flops.backward += 2 * n * inF * opts.out * (this.inputGrad ? 2 : 1);
    if (graph.training) {
      graph.grad(this.output);
      if (this.inputGrad) graph.grad(input);
    }
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    return linearForward(b.gpu, b.t(this.input), b.p(this.weight), b.p(this.bias), b.t(this.output), this.shape, convOptions(b));
  }

  backward(b: Buffers): Promise<Dispatch[]> {
    const dx = this.inputGrad ? b.d(this.input) : null;
    const accumulate = this.inputGrad ? b.accumulate(this.input) : false;
    return linearBackward(b.gpu, b.t(this.input), b.p(this.weight), b.d(this.output), dx, b.g(this.weight), b.g(this.bias), this.shape, { accumulate, ...convOptions(b) });
  }
}
