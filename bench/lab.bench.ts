// The score-matching lab's training step: steps per second for each objective (batch B points,
// MLP width x depth) on the moons, one submit per step, and the evaluation of the four objectives
// (J_ESM(p), J_ISM, J_ESM(q_sigma), J_DSM) on N points. --objectives=dsm,ism picks a subset.
import { namedDensity } from '../src/lab/densities.ts';
import { LabEvaluator } from '../src/lab/evaluate.ts';
import { LabTrainer } from '../src/lab/trainer.ts';
import { OBJECTIVES, type ObjectiveName } from '../src/lab/objectives.ts';
import type { Bench } from './types.ts';

export const bench: Bench = {
  name: 'lab',
  description: 'score-matching lab: training steps/s per objective (--batch=256 --width=64 --depth=2 --steps=50 --objectives=all --eval-points=4096)',
  async run(gpu, opts, emit) {
    const batch = Number(opts.batch ?? 256);
    const width = Number(opts.width ?? 64);
    const depth = Number(opts.depth ?? 2);
    const steps = Number(opts.steps ?? 50);
    const points = Number(opts['eval-points'] ?? 4096);
    const objectives = (opts.objectives && opts.objectives !== 'all' ? opts.objectives.split(',') : [...OBJECTIVES]) as ObjectiveName[];
    const density = namedDensity('moons');
    for (const objective of objectives) {
      const t = await LabTrainer.create(gpu, density, { objective: { objective }, model: { width, depth }, batch, seed: 1 });
      t.run(3); // warm-up: pipelines, first submits
      await gpu.done();
      const t0 = performance.now();
      t.run(steps);
      await gpu.done();
      const ms = (performance.now() - t0) / steps;
      emit({ bench: 'lab', shape: { batch, width, depth, rows: t.plan.batch.model.rows }, variant: objective, ms, stepsPerSecond: 1000 / ms, parameters: t.model.parameterCount });
      if (objective === objectives[objectives.length - 1]) {
        const ev = await LabEvaluator.create(gpu, t.model, density, { points, sigma: 0.3 });
        await ev.evaluate();
        const e0 = performance.now();
        const reps = 3;
        for (let i = 0; i < reps; i++) await ev.evaluate();
        emit({ bench: 'lab', shape: { points, width, depth }, variant: 'evaluate (4 objectives)', ms: (performance.now() - e0) / reps });
        ev.destroy();
      }
      t.destroy();
    }
  },
};
