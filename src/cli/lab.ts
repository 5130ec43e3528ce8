// `softdiff lab`: the score-matching lab from the command line (src/lab/session.ts). Trains a small
// score model on a 2-D (or small-D) Gaussian-mixture density with one objective, recording
// J_ESM(p), J_ISM, J_ESM(q_sigma) and J_DSM along the way, then writes to --out:
//   density.png  the density            field.png   true | target | learned scores over it
//   samples.png  Langevin samples       curves.png  J_ESM and J + C over training (curves.svg labelled)
//   objectives.json  settings, constants, the curves, final values, sample moments, timing
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { writePng } from '../node/png.ts';
import { Progress, type ProgressMode } from '../node/progress.ts';
import { EngineError } from '../gpu/errors.ts';
import { DENSITY_NAMES } from '../lab/densities.ts';
import { OBJECTIVES, PROJECTIONS, type ObjectiveName, type Projection } from '../lab/objectives.ts';
import { ACTIVATIONS, type Activation } from '../lab/score-model.ts';
import { LabSession, type LabSettings } from '../lab/session.ts';
import { positiveInt, positiveNumber, nonNegativeInt, seedValue, unitInterval, type CliIo } from './args.ts';

interface LabFlags {
  density: string;
  mixture?: string;
  dim: number;
  objective: ObjectiveName;
  steps: number;
  evalEvery: number;
  evalPoints: number;
  sigma?: number;
  sigmaMax?: number;
  sigmaMin?: number;
  levels?: number;
  projections?: number;
  projection?: Projection;
  model?: 'mlp' | 'tied';
  width?: number;
  depth?: number;
  activation?: Activation;
  batch?: number;
  lr?: number;
  lrDecay?: number;
  seed: number;
  trainSize?: number;
  chains?: number;
  langevinSteps?: number;
  eps?: number;
  size: number;
  out: string;
  progress?: ProgressMode;
}

const bounded = (lo: number, hi: number, parse: (v: string) => number) => (v: string) => {
  const n = parse(v);
  if (n < lo || n > hi) throw new InvalidArgumentError(`expected a value in [${lo}, ${hi}], got '${v}'.`);
  return n;
};

export function labCommand(io: CliIo): Command {
  return new Command('lab')
    .description('the score-matching lab: train a score model on a 2-D Gaussian-mixture density with one objective; write pictures (PNG) and objective values (JSON)')
    .option('--density <name|json>', `density: ${DENSITY_NAMES.join(', ')}, user (with --mixture), or a mixture as JSON`, 'rings')
    .option('--mixture <file>', 'a JSON mixture file for --density user: {"components": [{"weight": 1, "mean": [0, 0], "std": 0.3}, ...]}')
    .option('--dim <d>', 'dimension of a named density (2-D shapes are embedded in the first two coordinates)', bounded(1, 8, positiveInt), 2)
    .addOption(new Option('--objective <name>', 'training objective').choices(OBJECTIVES).default('dsm'))
    .option('--steps <n>', 'training steps', bounded(1, 1_000_000, nonNegativeInt), 2000)
    .option('--eval-every <n>', 'evaluate the four objectives every n steps', bounded(1, 1_000_000, positiveInt), 100)
    .option('--eval-points <n>', 'points in each evaluation set', bounded(64, 1 << 20, positiveInt), 4096)
    .option('--sigma <s>', 'noise level of dsm, esm-smoothed, esm-parzen, dae, and of the J_ESM(q_sigma) / J_DSM pair (default 0.3)', positiveNumber)
    .option('--sigma-max <s>', 'ncsn: largest level (default 3)', positiveNumber)
    .option('--sigma-min <s>', 'ncsn: smallest level (default 0.05)', positiveNumber)
    .option('--levels <L>', 'ncsn: number of geometric levels (default 10)', bounded(1, 1000, positiveInt))
    .option('--projections <M>', 'ssm, ssm-vr: projections per point (default 1)', bounded(1, 64, positiveInt))
    .addOption(new Option('--projection <kind>', 'ssm, ssm-vr: projection distribution (default gaussian)').choices(PROJECTIONS))
    .addOption(new Option('--model <kind>', 'score model: mlp, or Vincent\'s tied-weight autoencoder (default: tied for dae, else mlp)').choices(['mlp', 'tied']))
    .option('--width <n>', 'hidden width (default 64)', bounded(1, 1024, positiveInt))
    .option('--depth <n>', 'hidden layers of the MLP (default 2)', bounded(1, 8, positiveInt))
    .addOption(new Option('--activation <fn>', 'MLP activation (default silu)').choices(ACTIVATIONS))
    .option('--batch <n>', 'points per training step (default 256)', bounded(1, 1 << 20, positiveInt))
    .option('--lr <rate>', 'AdamW learning rate (default 0.01)', positiveNumber)
    .option('--lr-decay <f>', 'final learning rate as a fraction of --lr, geometric decay (default 0.1)', unitInterval)
    .option('--seed <n>', 'random seed', seedValue, 0)
    .option('--train-size <n>', 'train on n fixed draws instead of fresh ones (esm-parzen: default 1000)', bounded(0, 100_000, nonNegativeInt))
    .option('--chains <n>', 'Langevin chains for samples.png (default 2048)', bounded(1, 1 << 20, positiveInt))
    .option('--langevin-steps <n>', 'Langevin steps (per level for ncsn; default 500, ncsn 100)', bounded(1, 100_000, positiveInt))
    .option('--eps <a>', 'Langevin step size (default 0.1 x the smallest component variance; ncsn 0.1 sigma_min^2)', positiveNumber)
    .option('--size <px>', 'picture size per panel', bounded(64, 2048, positiveInt), 384)
    .option('--out <dir>', 'output folder', 'runs/lab')
    .addOption(new Option('--progress <mode>', 'progress display (default: bar on a terminal, else lines)').choices(['bar', 'lines', 'off']))
    .action(async (f: LabFlags) => {
      let density = f.density;
      if (f.density === 'user') {
        if (!f.mixture) throw new EngineError('--density user needs --mixture <file>.', 'Write the mixture as {"components": [{"mean": [0, 0], "std": 0.3}, ...]} in a file.');
        try {
          density = await readFile(f.mixture, 'utf8');
        } catch (e) {
          throw new EngineError(`--mixture: cannot read ${f.mixture}: ${(e as Error).message}`, 'Give the path of a JSON mixture file.');
        }
        if (density.length > 4 << 20) throw new EngineError(`--mixture: ${f.mixture} is larger than 4 MiB.`, 'A mixture has at most 4096 components.');
      }
      const settings: LabSettings = {
        density,
        dim: f.dim,
        objective: f.objective,
        sigma: f.sigma,
        sigmaMax: f.sigmaMax,
        sigmaMin: f.sigmaMin,
        levels: f.levels,
        projections: f.projections,
        projection: f.projection,
        model: { kind: f.model, width: f.width, depth: f.depth, activation: f.activation },
        batch: f.batch,
        lr: f.lr,
        lrDecay: f.lrDecay,
        seed: f.seed,
        trainSize: f.trainSize,
        evalPoints: f.evalPoints,
        langevin: { chains: f.chains, steps: f.langevinSteps, eps: f.eps },
      };
      await mkdir(f.out, { recursive: true });
      const gpu = await createNodeGpu();
      let session: LabSession | null = null;
      try {
        session = await LabSession.create(gpu, settings);
        const progress = new Progress({ total: f.steps, label: `lab ${f.objective}`, mode: f.progress, stream: io.progress });
        try {
          await session.train(f.steps, { every: f.evalEvery, total: f.steps, onPoint: (p) => progress.update(p.step, { esm: p.esm, loss: p.loss }) });
        } finally {
          progress.stop();
        }
        const field = await session.field(21, f.size);
        const samples = await session.samples();
        const pics = session.pictures(field, samples, f.size);
        await writePng(join(f.out, 'density.png'), pics.density);
        await writePng(join(f.out, 'field.png'), pics.field);
        await writePng(join(f.out, 'samples.png'), pics.samples);
        await writePng(join(f.out, 'curves.png'), pics.curves);
        await writeFile(join(f.out, 'curves.svg'), pics.curvesSvg);
        const report = session.report(samples);
        await writeFile(join(f.out, 'objectives.json'), `${JSON.stringify(report, null, 2)}\n`);
        const last = session.curve[session.curve.length - 1]!;
        io.out(
          `softdiff lab: ${f.objective} on ${session.densityLabel}, ${session.step} steps: J_ESM(p) ${last.esm.toPrecision(4)} ` +
            `(J_ISM + C ${(last.ism + session.evaluator.cIsm).toPrecision(4)}), J_ESM(q_${session.evaluator.sigma}) ${last.esmSmoothed.toPrecision(4)} ` +
            `(J_DSM + C ${(last.dsm + session.evaluator.cDsm).toPrecision(4)}) -> ${f.out}\n`,
        );
      } finally {
        session?.destroy();
        await gpu.done().catch(() => {});
        gpu.destroy();
        releaseNodeGpu();
      }
    });
}
