// Soft masking, C_t = diag(m_t) with a per-pixel ramp m_t in [0, 1] (SPEC.md section 1; shaders/mask.wgsl).
// The level c = levels[b, 1] moves a ramp of `width` across the image in the order given by `kind`:
//   'radial' (center first, outward), 'left-to-right' (column order), 'raster' (row-major order).
// m(u, c) = clamp(1 + (u - c (1 + width)) / width, 0, 1), u in [0, 1] the pixel's place in that order:
// c = 0 is the clean image, c = 1 masks everything. The level is c(t) = t unless a schedule is given.
// C is diagonal, so C^T = C; `normal` gives C^T C = diag(m^2).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { NonFiniteError, ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import type { Corruption } from './types.ts';
import { Schedule, type ScheduleJSON } from './schedule.ts';
import { imageDims, overlaps } from './dct.ts';

export const MASK_KINDS = ['radial', 'left-to-right', 'raster'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

export interface SoftMaskOptions {
  kind?: MaskKind;
  /** Ramp width in units of the ordering u in [0, 1]; default 0.1. Must be > 0 (0 would be a hard mask). */
  width?: number;
  /** c(t); default c = t. */
  schedule?: Schedule;
}

const WG = 256;

export class SoftMask implements Corruption {
  readonly name = 'mask';
  readonly selfAdjoint = true;
  readonly kind: MaskKind;
  readonly width: number;
  readonly schedule: Schedule | null;

  constructor(opts: SoftMaskOptions = {}) {
    this.kind = opts.kind ?? 'radial';
    this.width = opts.width ?? 0.1;
    this.schedule = opts.schedule ?? null;
    if (!MASK_KINDS.includes(this.kind)) throw new ValueError(`Unknown mask kind ${this.kind}; known: ${MASK_KINDS.join(', ')}.`);
    if (!Number.isFinite(this.width)) throw new NonFiniteError(`Mask width must be finite, got ${this.width}.`);
    if (!(this.width > 0)) throw new ValueError(`Mask width must be > 0, got ${this.width}.`, 'A hard mask gives no training signal; use a soft ramp such as 0.1.');
  }

  level(t: number): number {
    if (this.schedule) return this.schedule.at(t);
    if (!Number.isFinite(t)) throw new NonFiniteError(`t must be finite, got ${t}.`);
    if (t < 0 || t > 1) throw new ValueError(`t must lie in [0, 1], got ${t}.`);
    return t;
  }

  apply(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]> {
    return this.plan(gpu, x, out, levels, 1);
  }

  adjoint(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]> {
    return this.plan(gpu, x, out, levels, 1);
  }

  /** out = C^T C x = m^2 .* x. */
  normal(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]> {
    return this.plan(gpu, x, out, levels, 2);
  }

  private async plan(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor, power: 1 | 2): Promise<Dispatch[]> {
    const [b, c, h, w] = imageDims('mask input', x);
    if (!sameShape(x.shape, out.shape)) throw new ShapeError('mask output', x.shape, out.shape);
    if (!sameShape(levels.shape, [b, LEVEL_STRIDE])) throw new ShapeError('mask levels', [b, LEVEL_STRIDE], levels.shape);
    if (overlaps(x, out)) throw new ValueError('mask: input and output must not overlap.');
    const k = await gpu.kernel({ shader: 'mask', entry: 'mask_apply', bindings: ['uniform', 'read', 'read', 'rw'], constants: { WG } });
    const n = x.size;
    const params = gpu.uniform(new Params().u32(n, h, w, c * h * w, MASK_KINDS.indexOf(this.kind)).f32(this.width, power), 'mask:params');
    return [k.bind([params, levels, x.reshape([n]), out.reshape([n])], grid1d(n, WG), `mask-${this.kind}`)];
  }

  toJSON(): { name: 'mask'; kind: MaskKind; width: number; schedule: ScheduleJSON | null } {
    return { name: 'mask', kind: this.kind, width: this.width, schedule: this.schedule?.toJSON() ?? null };
  }

  static fromJSON(json: Record<string, unknown>): SoftMask {
    if (json.name !== 'mask') throw new ValueError(`Not a mask corruption description: ${JSON.stringify(json)}.`);
    return new SoftMask({ kind: json.kind as MaskKind, width: Number(json.width), schedule: json.schedule ? Schedule.fromJSON(json.schedule) : undefined });
  }
}
