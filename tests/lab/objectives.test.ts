// The lab's batch draw (lab_batch.wgsl), exact mixture score (lab_mixture.wgsl) and objectives
// (lab_objective.wgsl) against float64 references; every objective's parameter gradient checked by
// central finite differences of the float64 objective, and the GPU's per-point values, mean and
// parameter gradient against that reference on the GPU's own batch.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { ScoreModel, mlpSpec, tiedSpec, initialParameters, type ModelSpec } from '../../src/lab/score-model.ts';
import { BatchPlan, type TangentMode } from '../../src/lab/batch.ts';
import { GpuMixture } from '../../src/lab/mixture-gpu.ts';
import { GaussianMixture, packEmpirical } from '../../src/lab/mixture.ts';
import { namedDensity } from '../../src/lab/densities.ts';
import { OBJECTIVES, objectiveSetup, trainingObjective, geometricSigmas, type ObjectiveConfig, type ObjectiveName } from '../../src/lab/objectives.ts';
import { HostRng } from '../../src/base/host-rng.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import { mixtureScoreRef, modelBackwardRef, modelForwardRef, objectiveRef, prepareBatchRef, type ObjectiveRefSpec } from '../reference/lab.ts';

const ctx = useGpu();
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

describe('lab_batch.wgsl: prepare_batch draws the batch the float64 reference draws', () => {
  test.each([
    ['rings, noise, exact-trace basis', 'rings', 2, false, 'basis', true],
    ['grid, Gaussian tangents, no noise', 'grid', 2, false, 'gaussian', false],
    ['moons, Rademacher tangents, conditional input', 'moons', 2, true, 'rademacher', true],
    ['3-D Gaussian, several levels', 'gaussian', 3, true, 'none', true],
  ] as const)('%s', async (_, name, dim, conditional, mode, noise) => {
    const { gpu } = ctx;
    const p = namedDensity(name, dim);
    const model = new ScoreModel(gpu, mlpSpec({ dim, width: 4, depth: 1, conditional }));
    const sigmas = conditional ? geometricSigmas(2, 0.1, 5) : [0.3];
    const tangents = mode === 'basis' ? dim : mode === 'none' ? 0 : 3;
    const B = 300;
    const plan = await BatchPlan.create(gpu, model, { primal: B, tangents, tangentMode: mode as TangentMode, noise, sigmas, source: p.packSampler(), seed: 17 });
    plan.setStep(4);
    gpu.recorder().run(plan.dispatches).submit();
    const ref = prepareBatchRef(p.packSampler(), dim, model.spec.inputDim, Float32Array.from(sigmas), B, tangents, ({ none: 0, basis: 1, gaussian: 2, rademacher: 3 } as const)[mode], noise, 17, 4);
    // float32 arithmetic and the adapter's log/cos in Box-Muller: ~1e-6 relative
    expectClose(await gpu.read(plan.clean), ref.clean, { atol: 1e-5, rtol: 1e-5, label: 'clean' });
    expectClose(await gpu.read(plan.noise), ref.noise, { atol: 1e-5, rtol: 1e-5, label: 'noise' });
    expectClose(await gpu.read(plan.sigma), ref.sigma, { atol: 0, rtol: 1e-6, label: 'sigma' });
    expectClose(await gpu.read(plan.model.input), ref.input, { atol: 1e-5, rtol: 1e-5, label: 'input rows' });
    if (conditional) expect(new Set(ref.sigma).size, 'every level is drawn').toBe(sigmas.length);
    plan.destroy();
    model.destroy();
  });

  test('the empirical source picks training points uniformly', async () => {
    const { gpu } = ctx;
    const points = f32([1, 1, -1, 2, 0.5, -3]);
    const model = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 4, depth: 1 }));
    const plan = await BatchPlan.create(gpu, model, { primal: 3000, sigmas: [1], source: packEmpirical(points, 2), seed: 1 });
    gpu.recorder().run(plan.dispatches).submit();
    const x = await gpu.read(plan.clean);
    const counts = [0, 0, 0];
    for (let b = 0; b < 3000; b++) {
      const k = [0, 1, 2].find((i) => x[2 * b] === points[2 * i] && x[2 * b + 1] === points[2 * i + 1]);
      expect(k, `point ${b} is a training point`).toBeDefined();
      counts[k!]++;
    }
    // binomial(3000, 1/3): std 26
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(130);
    plan.destroy();
    model.destroy();
  });

  test('bad batch settings get clear errors', async () => {
    const { gpu } = ctx;
    const model = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 4, depth: 1 }));
    const source = namedDensity('grid').packSampler();
    await expect(BatchPlan.create(gpu, model, { primal: 4, sigmas: [0], source, seed: 0 })).rejects.toThrow(/positive/);
    await expect(BatchPlan.create(gpu, model, { primal: 4, sigmas: [1], source: source.subarray(0, 5), seed: 0 })).rejects.toThrow(/sampler layout/);
    await expect(BatchPlan.create(gpu, model, { primal: 4, tangents: 3, tangentMode: 'basis', sigmas: [1], source, seed: 0 })).rejects.toThrow(ValueError);
    model.destroy();
  });
});

describe('lab_mixture.wgsl: mixture_score is the exact score', () => {
  test.each([
    ['rings', namedDensity('rings'), 1],
    ['spiral smoothed at 0.3', namedDensity('spiral').smoothed(0.3), 1],
    ['grid in 3-D, rows of stride 4', namedDensity('grid', 3), 4 / 3],
    ['Parzen window on 1000 points', GaussianMixture.parzen(namedDensity('moons').sample(1000, new HostRng(2)), 2, 0.1), 1],
  ] as const)('%s', async (_, mix, strideFactor) => {
    const { gpu } = ctx;
    const n = 500;
    const stride = Math.round(mix.dim * strideFactor);
    const pts = randn(n * stride, 3, 1.5);
    const gm = new GpuMixture(gpu, mix);
    const x = gpu.upload(f32(pts), [n, stride]);
    const out = gpu.tensor([n, mix.dim]);
    gpu.recorder().dispatch(await gm.score(x, n, stride, out)).submit();
    const ref = mixtureScoreRef(mix, Float64Array.from(f32(pts)), n, stride);
    // scores reach |P (x - mu)| ~ 1 / 0.08^2 scale; float32 sums of K terms: relative 1e-5 of the largest
    const scale = Math.max(...ref.map(Math.abs));
    expectClose(await gpu.read(out), ref, { atol: 2e-5 * scale, rtol: 1e-4 });
    gm.destroy();
    gpu.release(x);
    gpu.release(out);
  });

  test('setMixture swaps in the smoothed mixture; a different size is a ShapeError', async () => {
    const { gpu } = ctx;
    const p = namedDensity('moons');
    const gm = new GpuMixture(gpu, p);
    gm.setMixture(p.smoothed(0.5));
    const x = gpu.upload(f32([0.2, 0.1]), [1, 2]);
    const out = gpu.tensor([1, 2]);
    gpu.recorder().dispatch(await gm.score(x, 1, 2, out)).submit();
    expectClose(await gpu.read(out), p.smoothed(0.5).score(Float64Array.from(f32([0.2, 0.1]))), { atol: 1e-5, rtol: 1e-5 });
    expect(() => gm.setMixture(namedDensity('grid'))).toThrow(ShapeError);
    gm.destroy();
  });
});

/** The head and batch an objective runs, as the reference sees them. */
function refHead(name: ObjectiveName, cfg: ObjectiveConfig, dim: number): { head: ObjectiveRefSpec; setup: ReturnType<typeof objectiveSetup> } {
  const setup = objectiveSetup(cfg, dim);
  const h = setup.head;
  return { setup, head: { mode: h.mode === 0 ? 'regress' : h.mode === 1 ? 'dsm' : 'trace', sliced: h.sliced, weightPower: h.weightPower, coef: h.coef, traceScale: h.traceScale } };
}

function modelFor(name: ObjectiveName, dim: number): ModelSpec {
  if (name === 'dae') return tiedSpec({ dim, width: 8, sigma: 0.3 });
  return mlpSpec({ dim, width: 8, depth: 2, activation: name === 'ism' ? 'softplus' : 'tanh', conditional: name === 'ncsn' });
}

const configs: ObjectiveConfig[] = [
  { objective: 'esm' },
  { objective: 'esm-smoothed', sigma: 0.4 },
  { objective: 'esm-parzen', sigma: 0.2 },
  { objective: 'ism' },
  { objective: 'ssm', projections: 2, projection: 'gaussian' },
  { objective: 'ssm', projections: 3, projection: 'rademacher' },
  { objective: 'ssm-vr', projections: 2 },
  { objective: 'dsm', sigma: 0.25 },
  { objective: 'ncsn', sigmas: geometricSigmas(2, 0.1, 4) },
  { objective: 'dae', sigma: 0.3 },
];

describe('the objectives: float64 gradients by finite differences, the GPU against float64', () => {
  test('every objective is covered', () => {
    expect(new Set(configs.map((c) => c.objective))).toEqual(new Set(OBJECTIVES));
  });

  test.each(configs.map((c) => [`${c.objective} ${c.projection ?? ''}`, c] as const))('%s', async (label, cfg) => {
    const { gpu } = ctx;
    const dim = 2;
    const p = namedDensity('moons');
    const spec = modelFor(cfg.objective, dim);
    const model = new ScoreModel(gpu, spec, 3);
    const theta = Float64Array.from(initialParameters(spec, 3));
    const trainingSet = cfg.objective === 'esm-parzen' ? f32(p.sample(200, new HostRng(4))) : undefined;
    const B = 64;
    const plan = await trainingObjective(gpu, model, p, cfg, { batch: B, seed: 5, trainingSet });
    plan.setStep(2);
    gpu.recorder().run(plan.forward).run(plan.backward).submit();
    const head = plan.heads[0]!;
    const [per, loss, grads] = [await gpu.read(head.perSample), (await gpu.read(head.loss))[0]!, await model.readGradients()];
    // The reference runs on the GPU's own batch (read back), with float64 targets.
    const { setup, head: rh } = refHead(cfg.objective, cfg, dim);
    const input = f64(await gpu.read(plan.batch.model.input));
    const clean = f64(await gpu.read(plan.batch.clean));
    const noise = f64(await gpu.read(plan.batch.noise));
    const sigma = f64(await gpu.read(plan.batch.sigma));
    const s0 = setup.sigmas[0]!;
    const t = setup.head.target;
    const targetMix = t === 'p' ? p : t === 'smoothed' ? p.smoothed(s0) : t === 'parzen' ? GaussianMixture.parzen(trainingSet!, dim, s0) : null;
    const target = targetMix ? mixtureScoreRef(targetMix, input, B, spec.inputDim) : t === 'clean' ? clean : null;
    const M = setup.tangents;
    const raw = setup.raw;
    const objective = (th: Float64Array) => objectiveRef(rh, dim, spec.inputDim, B, M, modelForwardRef(spec, th, input, B, raw).output, input, target, noise, sigma);
    const ref = objective(theta);
    const refGrad = modelBackwardRef(spec, theta, input, B, ref.dOut, raw);
    // float64: the analytic gradient of the objective is its central finite difference
    checkGradients(
      ([th]) => Float64Array.of(objective(th!).loss),
      ([th], g) => [modelBackwardRef(spec, th!, input, B, objective(th!).dOut, raw).map((v) => v * g[0]!)],
      [theta.slice()],
      { names: ['theta'], samples: 40, eps: 1e-5, atol: 1e-7, rtol: 1e-5 },
    );
    // GPU against float64: per-point values, the mean, the parameter gradient
    const scale = Math.max(...ref.perSample.map(Math.abs));
    expectClose(per, ref.perSample, { atol: 1e-5 * scale, rtol: 1e-4, label: `${label} per-point` });
    expectClose([loss], [ref.loss], { atol: 1e-6 * scale, rtol: 1e-4, label: `${label} mean` });
    const gscale = Math.max(...refGrad.map(Math.abs));
    expectClose(grads, refGrad, { atol: 1e-4 * gscale, rtol: 1e-3, label: `${label} gradient` });
    plan.destroy();
    model.destroy();
  });

  test('objective and model must fit together', async () => {
    const { gpu } = ctx;
    const p = namedDensity('grid');
    const plain = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 4, depth: 1 }));
    const cond = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 4, depth: 1, conditional: true }));
    await expect(trainingObjective(gpu, plain, p, { objective: 'ncsn' }, { batch: 4, seed: 0 })).rejects.toThrow(/noise-conditional/);
    await expect(trainingObjective(gpu, cond, p, { objective: 'dsm' }, { batch: 4, seed: 0 })).rejects.toThrow(/ncsn objective/);
    await expect(trainingObjective(gpu, plain, p, { objective: 'dae' }, { batch: 4, seed: 0 })).rejects.toThrow(/tied/);
    await expect(trainingObjective(gpu, plain, p, { objective: 'esm-parzen' }, { batch: 4, seed: 0 })).rejects.toThrow(/training set/);
    expect(() => objectiveSetup({ objective: 'ssm', projections: 0 }, 2)).toThrow(/1 to 64 projections/);
    expect(() => objectiveSetup({ objective: 'nce' as never }, 2)).toThrow(/Unknown objective 'nce'/);
    expect(() => geometricSigmas(0.1, 1, 3)).toThrow(/sigma_min <= sigma_max/);
    plain.destroy();
    cond.destroy();
  });
});
