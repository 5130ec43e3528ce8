// The score-matching theorems, measured on the GPU (SPEC section 3; docs/score-matching.md):
//   1. Vincent:    J_ESM(q_sigma)(theta) - J_DSM(theta) = F(q_sigma)/2 - D/(2 sigma^2) for every theta
//   2. Hyvarinen:  J_ESM(p)(theta) - J_ISM(theta) = F(p)/2 for every theta (and the sliced forms)
//   3. DSM training converges to the score of q_sigma (not of p)
//   4. Vincent 4.1: for the tied-weight autoencoder, the DAE loss is 2 sigma^4 times the DSM loss,
//      point by point, and so are their parameter gradients
// Each constant is estimated as a mean of per-point differences over the same fixed points for
// every parameter value (common random numbers); "equal" means within 4 standard errors of that
// mean. The parameter values are random initialisations and partly trained models, chosen so that
// the objectives themselves differ between them by far more than the tolerance.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { namedDensity, parseMixture } from '../../src/lab/densities.ts';
import { LabEvaluator } from '../../src/lab/evaluate.ts';
import { LabTrainer } from '../../src/lab/trainer.ts';
import { ObjectivePlan, trainingObjective } from '../../src/lab/objectives.ts';
import { ScoreModel, mlpSpec, tiedSpec } from '../../src/lab/score-model.ts';
import { fisherInformation } from '../../src/lab/constants.ts';

const ctx = useGpu();
const POINTS = 16384;

function meanSe(a: ArrayLike<number>): { mean: number; se: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! * a[i]!;
  }
  const mean = s / a.length;
  return { mean, se: Math.sqrt(Math.max(0, s2 / a.length - mean * mean) / a.length) };
}
const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from({ length: a.length }, (_, i) => a[i]! - b[i]!);

/** Paired differences of the per-point constants against the first row are 0 within 4 SE; returns the largest SE. */
function checkPaired(rows: { label: string; d: Float64Array }[]): number {
  let worst = 0;
  for (let i = 1; i < rows.length; i++) {
    const paired = meanSe(diff(rows[i]!.d, rows[0]!.d));
    console.log(`  paired ${rows[i]!.label} - ${rows[0]!.label}: ${paired.mean.toFixed(5)} +- ${paired.se.toFixed(5)}`);
    expect(Math.abs(paired.mean), `${rows[i]!.label} vs ${rows[0]!.label}: ${paired.mean} +- ${paired.se}`).toBeLessThan(4 * paired.se);
    worst = Math.max(worst, paired.se);
  }
  return worst;
}

/** Parameter values: two random initialisations, and models partly trained with DSM and with ESM. */
let memo: Promise<{ label: string; params: Float32Array }[]> | null = null;
function parameterValues(density: ReturnType<typeof namedDensity>, sigma: number): Promise<{ label: string; params: Float32Array }[]> {
  memo ??= trainParameterValues(density, sigma);
  return memo;
}

async function trainParameterValues(density: ReturnType<typeof namedDensity>, sigma: number): Promise<{ label: string; params: Float32Array }[]> {
  const { gpu } = ctx;
  const out: { label: string; params: Float32Array }[] = [];
  for (const seed of [1, 2]) {
    const m = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 32, depth: 2, activation: 'softplus' }), seed);
    out.push({ label: `random init ${seed}`, params: await m.readParameters() });
    m.destroy();
  }
  for (const objective of ['dsm', 'esm'] as const) {
    const t = await LabTrainer.create(gpu, density, { objective: { objective, sigma }, model: { width: 32, depth: 2, activation: 'softplus' }, batch: 128, lr: 5e-3, seed: 3 });
    t.run(60);
    out.push({ label: `${objective} 60 steps`, params: await t.model.readParameters() });
    t.destroy();
  }
  return out;
}

describe('the equivalences of score-matching objectives', () => {
  const sigma = 0.3;
  const density = namedDensity('moons');

  test('J_ESM(q_sigma) - J_DSM is one constant across parameters, equal to F(q_sigma)/2 - D/(2 sigma^2)', async () => {
    const { gpu } = ctx;
    const values = await parameterValues(density, sigma);
    const model = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 32, depth: 2, activation: 'softplus' }));
    const ev = await LabEvaluator.create(gpu, model, density, { points: POINTS, sigma });
    const rows: { label: string; esm: number; dsm: number; c: number; se: number; d: Float64Array }[] = [];
    for (const v of values) {
      model.setParameters(v.params);
      const pp = await ev.perPoint();
      const d = diff(pp.esmSmoothed, pp.dsm);
      const { mean, se } = meanSe(d);
      rows.push({ label: v.label, esm: meanSe(pp.esmSmoothed).mean, dsm: meanSe(pp.dsm).mean, c: mean, se, d });
    }
    console.log(`analytic C_DSM = ${ev.cDsm.toFixed(4)} (F(q_sigma) = ${ev.fisher.smoothed.value.toFixed(4)} by ${ev.fisher.smoothed.method}, sigma ${sigma}, ${POINTS} points)`);
    for (const r of rows) console.log(`  ${r.label.padEnd(16)} J_ESM(q) ${r.esm.toFixed(4)}  J_DSM ${r.dsm.toFixed(4)}  difference ${r.c.toFixed(4)} +- ${r.se.toFixed(4)}`);
    for (const r of rows) expect(Math.abs(r.c - ev.cDsm), `${r.label}: ${r.c} +- ${r.se} vs ${ev.cDsm}`).toBeLessThan(4 * r.se);
    // Constancy, sharper: the paired differences against the first parameter value (the
    // theta-independent noise cancels), and the objectives themselves move by far more than that.
    const pairedSe = checkPaired(rows);
    const dsms = rows.map((r) => r.dsm);
    expect(Math.max(...dsms) - Math.min(...dsms)).toBeGreaterThan(20 * pairedSe);
    ev.destroy();
    model.destroy();
  });

  test('J_ESM(p) - J_ISM (and the sliced forms) is one constant across parameters, equal to F(p)/2', async () => {
    const { gpu } = ctx;
    const values = await parameterValues(density, sigma);
    const model = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 32, depth: 2, activation: 'softplus' }));
    const fisherP = fisherInformation(density);
    const ev = await LabEvaluator.create(gpu, model, density, { points: POINTS, sigma, fisher: { p: fisherP } });
    // Sliced forms on the same clean points (same seed: the same x, fresh projections v).
    const sliced = await ObjectivePlan.create(gpu, model, { primal: POINTS, tangents: 1, tangentMode: 'rademacher', noise: false, sigmas: [sigma], source: density.packSampler(), seed: 0x5ca1ab1e }, [
      { mode: 0, coef: 0.5, target: density },
      { mode: 2, sliced: true, traceScale: 1 },
      { mode: 2, sliced: false, traceScale: 1 },
    ]);
    const rows: { label: string; ism: number; c: number; se: number; d: Float64Array; ssm: { mean: number; se: number }; vr: { mean: number; se: number } }[] = [];
    for (const v of values) {
      model.setParameters(v.params);
      const pp = await ev.perPoint();
      gpu.recorder().run(sliced.forward).submit();
      const [esm2, ssm, vr] = await Promise.all(sliced.heads.map((h) => gpu.read(h.perSample)));
      expect(Array.from(esm2!.subarray(0, 8)), 'the sliced plan sees the same points').toEqual(Array.from(pp.esm.subarray(0, 8)));
      const d = diff(pp.esm, pp.ism);
      rows.push({ label: v.label, ism: meanSe(pp.ism).mean, ...(({ mean, se }) => ({ c: mean, se }))(meanSe(d)), d, ssm: meanSe(diff(esm2!, ssm!)), vr: meanSe(diff(esm2!, vr!)) });
    }
    console.log(`analytic C_ISM = ${ev.cIsm.toFixed(4)} (F(p) = ${fisherP.value.toFixed(4)} by ${fisherP.method}, ${POINTS} points)`);
    for (const r of rows)
      console.log(`  ${r.label.padEnd(16)} J_ISM ${r.ism.toFixed(4)}  ESM-ISM ${r.c.toFixed(4)} +- ${r.se.toFixed(4)}  ESM-SSM ${r.ssm.mean.toFixed(4)} +- ${r.ssm.se.toFixed(4)}  ESM-SSM_VR ${r.vr.mean.toFixed(4)} +- ${r.vr.se.toFixed(4)}`);
    for (const r of rows) {
      expect(Math.abs(r.c - ev.cIsm), `${r.label} ISM: ${r.c} +- ${r.se} vs ${ev.cIsm}`).toBeLessThan(4 * r.se);
      expect(Math.abs(r.ssm.mean - ev.cIsm), `${r.label} SSM`).toBeLessThan(4 * r.ssm.se);
      expect(Math.abs(r.vr.mean - ev.cIsm), `${r.label} SSM-VR`).toBeLessThan(4 * r.vr.se);
    }
    const pairedSe = checkPaired(rows);
    const isms = rows.map((r) => r.ism);
    expect(Math.max(...isms) - Math.min(...isms)).toBeGreaterThan(20 * pairedSe);
    sliced.destroy();
    ev.destroy();
    model.destroy();
  });

  test('DSM training converges to the smoothed score, not the true one', async () => {
    const { gpu } = ctx;
    // Four modes of std 0.3 and sigma 0.5: q_sigma's score is smooth (a small MLP learns it in a few
    // hundred steps) and far from p's.
    const four = parseMixture({ components: [{ mean: [-1.5, -1.5], std: 0.3 }, { mean: [1.5, -1.5], std: 0.3 }, { mean: [-1.5, 1.5], std: 0.3 }, { mean: [1.5, 1.5], std: 0.3, weight: 2 }] });
    const s = 0.5;
    const t = await LabTrainer.create(gpu, four, { objective: { objective: 'dsm', sigma: s }, model: { width: 64, depth: 2, activation: 'softplus' }, batch: 256, lr: 1e-2, seed: 7 });
    const ev = await LabEvaluator.create(gpu, t.model, four, { points: 8192, sigma: s });
    const before = await ev.evaluate();
    t.run(300);
    t.optimizer.setLearningRate(2e-3);
    t.run(100);
    const after = await ev.evaluate();
    // the zero model's ESM against q_sigma: F(q_sigma) / 2
    const zero = ev.fisher.smoothed.value / 2;
    console.log(`DSM sigma ${s}: J_ESM(q_sigma) ${before.esmSmoothed.toFixed(4)} -> ${after.esmSmoothed.toFixed(4)} (zero model ${zero.toFixed(4)}), J_ESM(p) ${before.esm.toFixed(4)} -> ${after.esm.toFixed(4)}`);
    expect(after.esmSmoothed / zero, 'relative squared error to the smoothed score').toBeLessThan(0.05);
    // the smoothed score is far from the true one: the model matched q_sigma, not p
    expect(after.esm).toBeGreaterThan(10 * after.esmSmoothed);
    ev.destroy();
    t.destroy();
  });

  test('tied autoencoder: the DAE loss is 2 sigma^4 times the DSM loss, point by point, and so are the gradients', async () => {
    const { gpu } = ctx;
    const s = 0.4;
    const spec = tiedSpec({ dim: 2, width: 16, sigma: s });
    const model = new ScoreModel(gpu, spec, 5);
    const opts = { batch: 512, seed: 9 };
    const dae = await trainingObjective(gpu, model, density, { objective: 'dae', sigma: s }, opts);
    const dsm = await trainingObjective(gpu, model, density, { objective: 'dsm', sigma: s }, opts);
    const trainer = await LabTrainer.create(gpu, density, { objective: { objective: 'dae', sigma: s }, model: { kind: 'tied', width: 16 }, batch: 128, lr: 1e-2, seed: 5 });
    trainer.run(100);
    const trained = await trainer.model.readParameters();
    trainer.destroy();
    const factor = 2 * s ** 4;
    for (const [label, params] of [['random', await model.readParameters()], ['DAE-trained 100 steps', trained]] as const) {
      model.setParameters(params);
      const run = async (plan: ObjectivePlan) => {
        plan.setStep(3);
        gpu.recorder().run(plan.forward).run(plan.backward).submit();
        return { per: await gpu.read(plan.heads[0]!.perSample), loss: (await gpu.read(plan.heads[0]!.loss))[0]!, grad: await model.readGradients() };
      };
      const a = await run(dae);
      const b = await run(dsm);
      console.log(`${label}: J_DAE ${a.loss.toFixed(6)}, J_DSM ${b.loss.toFixed(6)}, ratio ${(a.loss / b.loss).toFixed(6)} (2 sigma^4 = ${factor})`);
      // float32: r - x~ loses ~1e-7 |x~| / |r - x~| relative; 1e-3 per point is far below any real mismatch
      for (let i = 0; i < a.per.length; i++) expect(Math.abs(a.per[i]! - factor * b.per[i]!), `point ${i}`).toBeLessThan(1e-3 * a.per[i]! + 1e-7);
      expect(a.loss / b.loss).toBeCloseTo(factor, 4);
      let worst = 0;
      let gmax = 0;
      for (let i = 0; i < a.grad.length; i++) {
        worst = Math.max(worst, Math.abs(a.grad[i]! - factor * b.grad[i]!));
        gmax = Math.max(gmax, Math.abs(a.grad[i]!));
      }
      expect(worst / gmax, 'gradients proportional').toBeLessThan(1e-3);
    }
    dae.destroy();
    dsm.destroy();
    model.destroy();
  });
});
