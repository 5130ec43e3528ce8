// The identity corruption C_t = I: classic Gaussian (VE) diffusion / denoising score matching
// (SPEC.md section 1). apply and adjoint are a copy (one dispatch), so callers need no special case.
// The level c is unused (0); the noise schedule (defaultNoiseSchedule('identity'): 0.01..50) does the work.
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import { NonFiniteError, ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { elementwise } from '../kernels/elementwise.ts';
import type { Corruption } from './types.ts';
import { overlaps } from './dct.ts';

export class IdentityCorruption implements Corruption {
  readonly name = 'identity';
  readonly selfAdjoint = true;
  readonly capabilities = { identity: true } as const;

  level(t: number): number {
    if (!Number.isFinite(t)) throw new NonFiniteError(`t must be finite, got ${t}.`);
    if (t < 0 || t > 1) throw new ValueError(`t must lie in [0, 1], got ${t}.`);
    return 0;
  }

  async apply(gpu: Gpu, x: Tensor, out: Tensor, _levels: Tensor): Promise<Dispatch[]> {
    if (!sameShape(x.shape, out.shape)) throw new ShapeError('identity corruption output', x.shape, out.shape);
    if (overlaps(x, out)) throw new ValueError('identity corruption: input and output must not overlap.');
    return [await elementwise(gpu, 'scale', out, x, null, 1)];
  }

  adjoint(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]> {
    return this.apply(gpu, x, out, levels);
  }

  normal(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]> {
    return this.apply(gpu, x, out, levels);
  }

  toJSON(): { name: 'identity' } {
    return { name: 'identity' };
  }
}
