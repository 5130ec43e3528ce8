// The contract every network module follows (llm.c style, no general autograd).
//
// A module is constructed against a Graph (src/nn/plan.ts): it declares its parameters and the
// activations it produces and keeps for backward; nothing touches the GPU. After the Graph's buffers
// are allocated, `forward` builds the dispatches of its forward pass and `backward` those of its
// backward pass (parameter gradients overwrite their slot of the flat gradient buffer, since every
// parameter is used once; an input gradient is written by the first consumer reached in backward
// order and accumulated by the others: Buffers.accumulate). Both are built once and recorded every step.
import type { Dispatch } from '../gpu/kernel.ts';
import type { Buffers, Graph } from './plan.ts';

export interface Module {
  /** Name prefix of the module's parameters (e.g. `down.1.res.0`). */
  readonly name: string;
  /** Name of the activation the module produces. */
  readonly output: string;
  forward(b: Buffers): Promise<Dispatch[]>;
  /** Reads d(output); writes parameter gradients and, when planned, d(input). */
  backward(b: Buffers): Promise<Dispatch[]>;
}

/** Runs builders in order and flattens their dispatches. */
export async function sequence(...parts: (Promise<Dispatch[] | Dispatch> | Dispatch[] | Dispatch)[]): Promise<Dispatch[]> {
  const out: Dispatch[] = [];
  for (const p of parts) {
    const r = await p;
    if (Array.isArray(r)) out.push(...r);
    else out.push(r);
  }
  return out;
}

/** PyTorch's default bound for conv and linear weights and biases: 1/sqrt(fan_in). */
export const fanInBound = (fanIn: number) => 1 / Math.sqrt(fanIn);

/** What an affine layer (a convolution, or a dense layer, which is a 1x1 one) declares in a Graph. */
export interface AffineDecl {
  weight: string;
  bias: string;
  output: string;
  inputGrad: boolean;
}

/**
 * Declares an affine layer's parameters (weight `weightShape` and a bias of `weightShape[0]`, PyTorch's
 * fan-in uniform init or zero), its output activation, its multiply-adds and, when training, the
 * gradients of its output and (unless `inputGrad` is false) its input.
 */
export function declareAffine(
  graph: Graph,
  name: string,
  input: string,
  o: { weightShape: number[]; outputShape: number[]; fanIn: number; macs: number; zeroInit?: boolean; inputGrad?: boolean; output?: string },
): AffineDecl {
  const init = o.zeroInit ? ({ kind: 'const', value: 0 } as const) : ({ kind: 'uniform', bound: fanInBound(o.fanIn) } as const);
  const weight = graph.param(`${name}.weight`, o.weightShape, init);
  const bias = graph.param(`${name}.bias`, [o.weightShape[0]!], init);
  const output = graph.tensor(o.output ?? `${name}:out`, o.outputShape);
  const inputGrad = graph.training && (o.inputGrad ?? true);
  graph.flops.forward += 2 * o.macs;
  if (graph.training) {
    graph.flops.backward += 2 * o.macs * (inputGrad ? 2 : 1);
    graph.grad(output);
    if (inputGrad) graph.grad(input);
  }
  return { weight, bias, output, inputGrad };
}
