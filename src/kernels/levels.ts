// The per-sample levels tensor [B, LEVEL_STRIDE] read by the time embedding (here, the lowest layer
// that reads it), the corruptions, the losses and the samplers (shaders/levels.wgsl is the WGSL side):
//   levels[b, 0] = t          in [0, 1]
//   levels[b, 1] = c          the corruption's own level at t (blur std in pixels for the DCT blur,
//                             the ramp position for masking; unused for identity)
//   levels[b, 2] = sigma      the noise std sigma(t)
//   levels[b, 3] = weight     the loss weight w(t) (training) or 0
// The host fills it (diffusion/schedule.ts fillLevels) and uploads it before a step's one submit.

export const LEVEL_STRIDE = 4;

/** Column of each field in a row of the levels tensor. */
export const LEVEL_COLUMN = { t: 0, level: 1, sigma: 2, weight: 3 } as const;
