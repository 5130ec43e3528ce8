// The contract every network module follows (llm.c style, no general autograd).
//
// A module is constructed against a Graph (src/nn/plan.ts): it declares its parameters and the
// activations it produces and keeps for backward; nothing touches the GPU. After the Graph's buffers
// are allocated, `forward` builds the dispatches of its forward pass and `backward` those of its
// backward pass (parameter gradients overwrite their slot of the flat gradient buffer, since every
// parameter is used once; an input gradient is written by the first consumer reached in backward
// order and accumulated by the others: Buffers.accumulate). Both are built once and recorded every step.
import type { Dispatch } from '../gpu/kernel.ts';
import type { Buffers } from './plan.ts';

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
