// The lab's score models (shaders/lab_mlp.wgsl, src/lab/score-model.ts): the float64 reference's
// tangent rows are Jacobian-vector products (finite differences in x) and its backward is the
// gradient of <g, output> (finite differences in theta, through the coupled tangent rows); the GPU
// matches the reference, forward and backward, for every activation, the noise-conditional MLP and
// the tied-weight autoencoder (score and raw reconstruction); destroy() releases every buffer.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { ACTIVATIONS, ScoreModel, initialParameters, mlpSpec, tiedSpec, type ModelSpec } from '../../src/lab/score-model.ts';
import { ValueError } from '../../src/gpu/errors.ts';
import { modelBackwardRef, modelForwardRef } from '../reference/lab.ts';

const ctx = useGpu();

/** Points, then M tangent rows; a conditional model gets log sigma in its extra column (0 on tangent rows). */
function stackedInput(spec: ModelSpec, primal: number, tangents: number, seed: number): Float64Array {
  const R = primal * (1 + tangents);
  const x = randn(R * spec.inputDim, seed);
  if (spec.inputDim > spec.dim)
    for (let r = 0; r < R; r++) x[r * spec.inputDim + spec.dim] = r < primal ? Math.log(0.1 + 0.4 * Math.abs(x[r * spec.inputDim + spec.dim]!)) : 0;
  return x;
}

const params64 = (spec: ModelSpec, seed: number) => {
  const p = Float64Array.from(initialParameters(spec, seed));
  // non-zero biases so that the "bias on primal rows only" rule is exercised
  for (const l of spec.layers) {
    const e = spec.layout.entries.get(l.bias)!;
    const r = randn(l.nout, seed + 7, 0.3);
    for (let i = 0; i < l.nout; i++) p[e.offset + i] = r[i]!;
  }
  return p;
};

const cases: [string, ModelSpec][] = [
  ...ACTIVATIONS.map((a) => [`mlp ${a} 2x16x16`, mlpSpec({ dim: 2, width: 16, depth: 2, activation: a })] as [string, ModelSpec]),
  ['mlp tanh 3-D depth 1', mlpSpec({ dim: 3, width: 8, depth: 1 })],
  ['conditional mlp softplus', mlpSpec({ dim: 2, width: 12, depth: 2, activation: 'softplus', conditional: true })],
  ['tied autoencoder', tiedSpec({ dim: 2, width: 10, sigma: 0.5 })],
];

describe('float64 reference of the stacked model', () => {
  test.each(cases)('%s: tangent rows are J v (finite differences in x)', (_, spec) => {
    const B = 3;
    const M = 2;
    const p = params64(spec, 1);
    const x = stackedInput(spec, B, M, 2);
    const out = modelForwardRef(spec, p, x, B).output;
    const h = 1e-6;
    for (let b = 0; b < B; b++)
      for (let m = 1; m <= M; m++) {
        // s(x + h v) - s(x - h v) over 2h, with v the tangent row (the conditioning column held fixed)
        const plus = new Float64Array(B * spec.inputDim);
        const minus = new Float64Array(B * spec.inputDim);
        plus.set(x.subarray(0, B * spec.inputDim));
        minus.set(x.subarray(0, B * spec.inputDim));
        for (let j = 0; j < spec.dim; j++) {
          plus[b * spec.inputDim + j] += h * x[(m * B + b) * spec.inputDim + j]!;
          minus[b * spec.inputDim + j] -= h * x[(m * B + b) * spec.inputDim + j]!;
        }
        const sp = modelForwardRef(spec, p, plus, B).output;
        const sm = modelForwardRef(spec, p, minus, B).output;
        const fd = Array.from({ length: spec.dim }, (_, j) => (sp[b * spec.dim + j]! - sm[b * spec.dim + j]!) / (2 * h));
        expectClose(out.subarray((m * B + b) * spec.dim, (m * B + b + 1) * spec.dim), fd, { atol: 1e-7, rtol: 1e-6, label: `J v, point ${b}, tangent ${m}` });
      }
  });

  test.each(cases)('%s: backward is the gradient of <g, output> over primal and tangent rows', (_, spec) => {
    const B = 3;
    const M = 2;
    const x = stackedInput(spec, B, M, 3);
    const p = params64(spec, 4);
    checkGradients(
      ([theta]) => modelForwardRef(spec, theta!, x, B).output,
      ([theta], g) => [modelBackwardRef(spec, theta!, x, B, g)],
      [p],
      { names: ['theta'], samples: 60, atol: 1e-8, rtol: 1e-6 },
    );
  });

  test('the tied autoencoder: score = (reconstruction - x) / sigma^2', () => {
    const sigma = 0.5;
    const spec = tiedSpec({ dim: 2, width: 10, sigma });
    const x = stackedInput(spec, 4, 0, 5);
    const p = params64(spec, 6);
    const s = modelForwardRef(spec, p, x, 4).output;
    const r = modelForwardRef(spec, p, x, 4, true).output;
    expectClose(s, r.map((v, i) => (v - x[i]!) / sigma ** 2), { atol: 1e-12, rtol: 1e-12 });
  });
});

describe('score models on the GPU against the float64 reference', () => {
  test.each([...cases, ['tied autoencoder, raw reconstruction', tiedSpec({ dim: 2, width: 10, sigma: 0.5 })] as [string, ModelSpec]])('%s: forward (with JVP rows) and parameter gradients', async (label, spec) => {
    const { gpu } = ctx;
    const raw = label.includes('raw');
    const B = 37;
    const M = 2;
    const p = params64(spec, 8);
    const x = stackedInput(spec, B, M, 9);
    const model = new ScoreModel(gpu, spec);
    model.setParameters(f32(p));
    const plan = await model.plan(B, M, { raw });
    gpu.write(plan.input, f32(x));
    const g = randn(B * (1 + M) * spec.dim, 10);
    gpu.write(plan.dOutput, f32(g));
    gpu.recorder('lab model').run(plan.forward).run(plan.backward).submit();
    const out = await gpu.read(plan.output);
    const grads = await model.readGradients();
    // reference on the float32-rounded inputs
    const p32 = Float64Array.from(f32(p));
    const x32 = Float64Array.from(f32(x));
    const g32 = Float64Array.from(f32(g));
    const ref = modelForwardRef(spec, p32, x32, B, raw).output;
    const scale = Math.max(...ref.map(Math.abs));
    expectClose(out, ref, { atol: 2e-5 * scale, rtol: 1e-4, label: `${label} output` });
    const gref = modelBackwardRef(spec, p32, x32, B, g32, raw);
    const gscale = Math.max(...gref.map(Math.abs));
    expectClose(grads, gref, { atol: 5e-5 * gscale, rtol: 2e-4, label: `${label} gradient` });
    plan.destroy();
    model.destroy();
  });

  test('destroy() releases every buffer a model and its plans made (the census returns to its baseline)', async () => {
    const { gpu } = ctx;
    const before = gpu.census.snapshot();
    const model = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 32, depth: 3, conditional: true }));
    const a = await model.plan(64, 2);
    const b = await model.plan(16, 0, { raw: true });
    expect(gpu.census.snapshot().bytes).toBeGreaterThan(before.bytes);
    a.destroy();
    model.destroy(); // also releases plan b, made from it
    expect(gpu.census.snapshot()).toEqual(before);
    b.destroy(); // idempotent
  });

  test('bad configurations get clear errors', () => {
    expect(() => mlpSpec({ dim: 9, width: 8, depth: 1 })).toThrow(/dimension must be an integer in \[1, 8\]/);
    expect(() => mlpSpec({ dim: 2, width: 0, depth: 1 })).toThrow(ValueError);
    expect(() => mlpSpec({ dim: 2, width: 8, depth: 9 })).toThrow(/depth/);
    expect(() => mlpSpec({ dim: 2, width: 8, depth: 1, activation: 'relu' as never })).toThrow(/Unknown activation 'relu'/);
    expect(() => tiedSpec({ dim: 2, width: 8, sigma: 0 })).toThrow(/sigma/);
  });
});
