// float64 reference for the soft masks (src/diffusion/mask.ts, shaders/mask.wgsl).
import type { Dims } from './blur.ts';

export function maskOrderRef(kind: string, y: number, x: number, h: number, w: number): number {
  if (kind === 'radial') return Math.hypot(y + 0.5 - h / 2, x + 0.5 - w / 2) / Math.hypot(h / 2, w / 2);
  if (kind === 'left-to-right') return (x + 0.5) / w;
  return (y * w + x + 0.5) / (h * w);
}

export const maskValueRef = (u: number, c: number, width: number) => Math.min(1, Math.max(0, 1 + (u - c * (1 + width)) / width));

/** diag(m)^power x with per-sample levels cs[b]. */
export function maskRef(x: Float64Array, [, ch, h, w]: Dims, kind: string, width: number, cs: readonly number[], power = 1): Float64Array {
  return x.map((v, i) => {
    const b = Math.floor(i / (ch * h * w));
    const m = maskValueRef(maskOrderRef(kind, Math.floor(i / w) % h, i % w, h, w), cs[b]!, width);
    return v * m ** power;
  });
}
