// Every shaders/*.wgsl file must be exercised by a named test file against a float64 reference, so a
// new shader without tests fails here. Variant shaders are tested through their op's variant list
// (e.g. conv2d_winograd via CONV2D_VARIANTS in tests/kernels/conv2d.test.ts).
import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { shaderNames } from '../../src/gpu/shaders.ts';
import { addInto } from '../../src/kernels/accumulate.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, f32 } from '../helpers/random.ts';

/** shader stem -> [test file, a word that file must contain to show it reaches this shader]. */
const COVERAGE: Record<string, [string, string]> = {
  accumulate: ['tests/gpu/shader-coverage.test.ts', 'addInto'],
  adamw: ['tests/kernels/adamw.test.ts', 'AdamW'],
  attention: ['tests/kernels/attention.test.ts', "'rows'"],
  attention_lanes: ['tests/kernels/attention.test.ts', 'ATTENTION_VARIANTS'],
  channels: ['tests/kernels/channels.test.ts', 'concatChannels'],
  conv2d_direct: ['tests/kernels/conv2d.test.ts', 'CONV2D_VARIANTS'],
  conv2d_gemm: ['tests/kernels/conv2d.test.ts', 'gemm'],
  conv2d_params: ['tests/kernels/conv2d.test.ts', 'CONV2D_VARIANTS'],
  conv2d_reduce: ['tests/kernels/conv2d.test.ts', 'conv2dBackwardWeight'],
  conv2d_tiled: ['tests/kernels/conv2d.test.ts', 'CONV2D_VARIANTS'],
  conv2d_winograd: ['tests/kernels/conv2d.test.ts', 'winograd'],
  dataset_stats: ['tests/diffusion/level-scheduler.test.ts', 'datasetSpectrum'],
  dct: ['tests/diffusion/blur.test.ts', 'dctForward'],
  elementwise: ['tests/gpu/elementwise.test.ts', 'silu_backward'],
  gaussian_denoiser: ['tests/diffusion/samplers.test.ts', 'GaussianDenoiser'],
  groupnorm: ['tests/kernels/groupnorm.test.ts', 'groupNormBackward'],
  linear: ['tests/kernels/linear.test.ts', 'linearBackward'],
  lab_batch: ['tests/lab/objectives.test.ts', 'prepare_batch'],
  lab_langevin: ['tests/lab/langevin.test.ts', 'LangevinSampler'],
  lab_mixture: ['tests/lab/objectives.test.ts', 'mixture_score'],
  lab_mlp: ['tests/lab/score-model.test.ts', 'modelBackwardRef'],
  lab_objective: ['tests/lab/objectives.test.ts', 'objectiveRef'],
  losses: ['tests/diffusion/losses.test.ts', 'softScoreLoss'],
  mask: ['tests/diffusion/corruptions.test.ts', 'SoftMask'],
  matmul_regblock: ['tests/kernels/matmul.test.ts', 'MATMUL_VARIANTS'],
  matmul_tiled: ['tests/kernels/matmul.test.ts', 'MATMUL_VARIANTS'],
  mse: ['tests/kernels/mse.test.ts', 'mseLoss'],
  philox: ['tests/diffusion/rng.test.ts', 'Philox'],
  prior: ['tests/diffusion/prior.test.ts', 'GaussianPrior'],
  projection: ['tests/kernels/projection.test.ts', 'projectionBackward'],
  reduce: ['tests/kernels/reduce.test.ts', 'reduceRows'],
  rng: ['tests/diffusion/rng.test.ts', 'randomNormal'],
  sampler: ['tests/diffusion/samplers.test.ts', 'momentum'],
  timeembed: ['tests/kernels/timeembed.test.ts', 'timeEmbedding'],
  upsample: ['tests/kernels/upsample.test.ts', 'upsample2xBackward'],
  user_corruption: ['tests/diffusion/corruptions.test.ts', 'defineCorruption'],
};

const root = resolve(import.meta.dirname, '../..');

describe('shader coverage', () => {
  test('every shader file is mapped to a test file that reaches it', () => {
    const unmapped = shaderNames().filter((s) => !(s in COVERAGE));
    expect(unmapped, 'shaders with no test listed in COVERAGE').toEqual([]);
    for (const [stem, [file, word]] of Object.entries(COVERAGE)) {
      expect(shaderNames(), `COVERAGE lists ${stem}, which is not a shader`).toContain(stem);
      const path = resolve(root, file);
      expect(existsSync(path), `${file} (for ${stem}.wgsl) exists`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${file} mentions ${word} (for ${stem}.wgsl)`).toContain(word);
    }
  });
});

describe('accumulate.wgsl: addInto', () => {
  const ctx = useGpu();
  test('y += x matches the float64 sum, tail included', async () => {
    const { gpu } = ctx;
    const n = 70001;
    const x = randn(n, 11);
    const y = randn(n, 12);
    const tx = gpu.upload(f32(x));
    const ty = gpu.upload(f32(y));
    gpu.recorder().dispatch(await addInto(gpu, tx, ty)).submit();
    expectClose(await gpu.read(ty), y.map((v, i) => v + x[i]!), { atol: 1e-6, rtol: 1e-6 });
  });
  test('mismatched sizes are a ShapeError', async () => {
    const { gpu } = ctx;
    await expect(addInto(gpu, gpu.tensor([3]), gpu.tensor([4]))).rejects.toThrow(ShapeError);
  });
});
