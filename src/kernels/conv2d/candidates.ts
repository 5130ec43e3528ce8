// Which algorithms the autotune times for a shape on this adapter: all that apply ('winograd' is
// 'direct' outside 3x3 stride 1, so it is not timed twice), minus measured losers on the software
// adapters, whose timing runs are what makes planning slow there (bench/conv, batch 8, every U-Net
// shape):
//   lavapipe: 'tiled' (3x) and, at 3x3 stride 1, 'gemm' (1-2.4x) are slower than 'direct';
//     'winograd4' (F(4x4, 3x3)) beats 'winograd' (F(2x2, 3x3)) in CPU time at the U-Net's 3x3
//     shapes, batch 8 (forward 1.0-2.4x, input gradient 1.0-2x, weight gradient 1.4-2.2x), and wins
//     against 'direct' but not everywhere (e.g. a 3-channel weight gradient), and 'gemm' wins at some
//     stride-2 shapes, so those are timed against 'direct'.
//   swiftshader: 'direct' (3-6x) and 'tiled' (5-7x) are slower than 'gemm' (their private arrays or
//     barriers are slow there); 'winograd' wins the forward and input gradient, 'gemm' mostly the
//     weight gradient.
// An algorithm whose scratch matrices would exceed one binding is left out rather than failing the
// plan ('direct' and 'tiled' need none).
import type { Gpu } from '../../gpu/gpu.ts';
import type { Conv2dAlgorithm } from './algorithm.ts';
import type { Conv2dShape } from './shape.ts';
import { direct } from './direct.ts';
import { tiled } from './tiled.ts';
import { gemm } from './gemm.ts';
import { winograd, winograd4 } from './winograd.ts';

export const CONV2D_VARIANTS = ['direct', 'tiled', 'gemm', 'winograd', 'winograd4'] as const;
export type Conv2dVariant = (typeof CONV2D_VARIANTS)[number];

export const CONV2D_ALGORITHMS: Record<Conv2dVariant, Conv2dAlgorithm> = { direct, tiled, gemm, winograd, winograd4 };

/** The algorithm that runs under `name` for this shape: itself where it applies, else 'direct'. */
export function algorithmFor(name: Conv2dVariant, s: Conv2dShape): Conv2dAlgorithm {
  const a = CONV2D_ALGORITHMS[name];
  return a.applies(s) ? a : direct;
}

/** The variant names worth timing for `s` on `gpu`'s adapter. */
export function candidates(gpu: Gpu, s: Conv2dShape): Conv2dVariant[] {
  const wino = winograd.applies(s);
  let names: Conv2dVariant[] = CONV2D_VARIANTS.filter((v) => !v.startsWith('winograd') || wino);
  if (gpu.adapter.key === 'lavapipe') names = wino ? ['direct', 'winograd4'] : ['direct', 'gemm'];
  if (gpu.adapter.key === 'swiftshader') names = wino ? ['gemm', 'winograd', 'winograd4'] : ['gemm'];
  names = names.filter((v) => CONV2D_ALGORITHMS[v].scratchFloats(s) * 4 <= gpu.limits.maxStorageBufferBindingSize);
  return names.length ? names : ['direct'];
}
