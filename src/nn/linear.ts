// Linear module: y[n, out] = x[n, in] W^T + b, PyTorch layout (W [out, in]), computed as a 1x1
// convolution (src/kernels/linear.ts).
import type { Dispatch } from '../gpu/kernel.ts';
import { linearBackward, linearForward } from '../kernels/linear.ts';
import { declareAffine, type Module } from './module.ts';
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
    const decl = declareAffine(graph, name, input, { weightShape: [opts.out, inF], outputShape: [n, opts.out], fanIn: inF, macs: n * inF * opts.out, inputGrad: opts.inputGrad, output: opts.output });
    ({ weight: this.weight, bias: this.bias, output: this.output, inputGrad: this.inputGrad } = decl);
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
