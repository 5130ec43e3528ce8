// The per-sample levels tensor [B, LEVEL_STRIDE] (shared: `#include levels`; no bindings, no entry
// points). It mirrors src/kernels/levels.ts (tests/gpu/shader-includes.test.ts keeps the two equal):
//   row b = (t, c = the corruption's level at t, sigma = the noise std, w = the loss weight).
// A kernel reads sample b's field f as levels[level_index(b, f)] from whichever binding holds it.

const LEVEL_STRIDE: u32 = 4u;
const LEVEL_T: u32 = 0u;
const LEVEL_C: u32 = 1u;
const LEVEL_SIGMA: u32 = 2u;
const LEVEL_WEIGHT: u32 = 3u;

fn level_index(b: u32, field: u32) -> u32 {
  return b * LEVEL_STRIDE + field;
}
