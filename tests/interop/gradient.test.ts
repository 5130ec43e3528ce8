// One training step in PyTorch against the engine's, from an engine checkpoint and the same batch
// (x0, the noise eta, the levels rows): x_t = C_t x0 + sigma eta, the loss and its per-sample
// values, every parameter's gradient (autograd vs the engine's explicit backward), and, after one
// AdamW step (clipping, warmup, weight decay off as in the options), the Adam moments and the EMA.
// The soft score-matching loss (the default, through the DCT blur) is checked in full; the x0 and
// DSM losses by their loss and gradients.
import { beforeAll, describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { randn, rng } from '../helpers/random.ts';
import { Tensor } from '../../src/gpu/tensor.ts';
import { UNet } from '../../src/nn/unet.ts';
import { TrainingStep } from '../../src/nn/training-step.ts';
import { AdamW } from '../../src/kernels/adamw.ts';
import { coldX0Loss, corruptBatch, dsmLoss, softScoreLoss } from '../../src/diffusion/losses.ts';
import { Schedule, fillLevels } from '../../src/diffusion/schedule.ts';
import { LEVEL_STRIDE } from '../../src/diffusion/types.ts';
import { decodeCheckpointFile, stateForLayout, type DecodedCheckpoint } from '../../src/train/checkpoint-state.ts';
import { corruptionFromJSON, type LossName } from '../../src/train/options.ts';
import { checkTorch, engineCheckpoint, writeEngineCheckpoint, INTEROP_OPTIONS, maxDiff, runTorch, useTmp, writeTensors } from './helpers.ts';

const ctx = useGpu();
const tmp = useTmp();
let ckptPath: string;
let ckpt: ReturnType<typeof decodeCheckpointFile>;

beforeAll(async () => {
  checkTorch();
  ({ path: ckptPath, ckpt } = await writeEngineCheckpoint(ctx.gpu, tmp.dir));
});

/** One engine step on a fixed batch: the loss, per-sample losses, x_t and every flat copy after the step. */
async function engineStep(ck: DecodedCheckpoint, loss: LossName, x0: Float32Array, eta: Float32Array, levels: Float32Array, x0Weight = 0) {
  const gpu = ctx.gpu.scope('interop:grad'); // owns every buffer of this step; destroyed at the end
  const o = ck.fields.options;
  const cfg = o.model;
  const n = o.batch;
  const dims = [n, cfg.inChannels, cfg.imageSize, cfg.imageSize];
  const corruption = corruptionFromJSON(o.corruption);
  const x0t = gpu.upload(x0, dims, 'interop:x0');
  const etat = gpu.upload(eta, dims, 'interop:eta');
  const lv = gpu.upload(levels, [n, LEVEL_STRIDE], 'interop:levels');
  const perSample = gpu.tensor([n], 'interop:per-sample');
  const lossT = gpu.tensor([1], 'interop:loss');
  const net = await UNet.create(gpu, cfg, { batch: n, levels: lv });
  const layout = net.plan.graph.params;
  net.setParameters(stateForLayout(ck, layout).flat.model);
  const flat = (buf: GPUBuffer | null, label: string) => new Tensor(buf!, [layout.size], 0, 'f32', label);
  const opt = await AdamW.create(gpu, layout, flat(net.buffers.params, 'params'), flat(net.buffers.grads, 'grads'), {
    lr: o.lr, warmupSteps: o.warmupSteps, clipNorm: o.clipNorm, weightDecay: o.weightDecay, emaDecay: o.emaDecay,
  });
  const t = { phi: net.phi, xt: net.x, x0: x0t, levels: lv, grad: net.dPhi, perSample, loss: lossT };
  const lossDispatches = loss === 'x0' ? await coldX0Loss(gpu, t) : loss === 'dsm' ? await dsmLoss(gpu, corruption, { ...t, noise: etat }) : await softScoreLoss(gpu, corruption, t, { x0Weight });
  const step = new TrainingStep(gpu, net, { prepare: await corruptBatch(gpu, corruption, x0t, etat, lv, net.x), loss: lossDispatches, lossTensor: lossT, optimizer: opt.dispatches() });
  try {
    const value = await step.run({ readLoss: true })!;
    const read = async (tt: Tensor) => gpu.read(tt);
    const byName = (a: Float32Array) => new Map([...layout.entries].map(([k, e]) => [k, a.subarray(e.offset, e.offset + e.shape.reduce((p, q) => p * q, 1))]));
    return {
      loss: value,
      perSample: await read(perSample),
      xt: await read(net.x),
      gradNorm: (await opt.readState()).gradNorm,
      grad: byName(await net.readFlat('grads')),
      model: byName(await net.readFlat('params')),
      adam_m: byName(await read(opt.m)),
      adam_v: byName(await read(opt.v)),
      ema: byName(await read(opt.ema)),
    };
  } finally {
    step.destroy();
    opt.destroy();
    net.destroy();
    gpu.destroy();
  }
}

/** The largest difference over every parameter tensor of a copy, and that copy's largest value. */
function copyDiff(torch: Map<string, Float32Array>, prefix: string, engine: Map<string, Float32Array>) {
  let abs = 0;
  let scale = 0;
  for (const [k, e] of engine) {
    const d = maxDiff(torch.get(`${prefix}.${k}`)!, e);
    abs = Math.max(abs, d.abs);
    scale = Math.max(scale, d.scale);
  }
  return { abs, scale };
}

describe('one training step, PyTorch vs the engine', () => {
  const o = () => ckpt.fields.options;
  const batch = (ck = ckpt) => {
    const oo = ck.fields.options;
    const cfg = oo.model;
    const n = oo.batch;
    const count = n * cfg.inChannels * cfg.imageSize * cfg.imageSize;
    const u = rng(23);
    const x0 = Float32Array.from({ length: count }, () => u());
    const eta = Float32Array.from(randn(count, 29));
    const ts = [0.02, 0.3, 0.65, 0.97];
    const levels = fillLevels(corruptionFromJSON(oo.corruption), Schedule.fromJSON(oo.noise), ts);
    return { x0, eta, levels, dims: [n, cfg.inChannels, cfg.imageSize, cfg.imageSize] };
  };

  for (const [loss, x0Weight] of [['soft', 0], ['x0', 0], ['dsm', 0], ['soft', 0.1]] as const) {
    const label = x0Weight > 0 ? `${loss} loss + ${x0Weight} x0 loss` : `${loss} loss`;
    test(`${label}: the loss, every gradient${loss === 'soft' && !x0Weight ? ', the Adam moments and the EMA after the step' : ''}`, async () => {
      const { x0, eta, levels, dims } = batch();
      const engine = await engineStep(ckpt, loss, x0, eta, levels, x0Weight);
      const inputs = writeTensors(join(tmp.dir, `grad-${loss}.safetensors`), {
        x0: { shape: dims, data: x0 }, eta: { shape: dims, data: eta }, levels: { shape: [dims[0]!, LEVEL_STRIDE], data: levels },
      });
      const torch = runTorch(tmp.dir, 'grad', { checkpoint: ckptPath, inputs, loss, x0Weight });
      const xt = maxDiff(torch.get('xt')!, engine.xt);
      const lossRel = Math.abs(torch.get('loss')![0]! - engine.loss) / engine.loss;
      const per = maxDiff(torch.get('perSample')!, engine.perSample);
      const grad = copyDiff(torch, 'grad', engine.grad);
      const normRel = Math.abs(torch.get('gradNorm')![0]! - engine.gradNorm) / engine.gradNorm;
      console.log(`${label}: loss ${engine.loss.toExponential(4)} rel diff ${lossRel.toExponential(2)}; per-sample max diff ${per.abs.toExponential(2)}; x_t ${xt.abs.toExponential(2)}; ` +
        `gradient max |diff| ${grad.abs.toExponential(3)} of max |g| ${grad.scale.toExponential(3)}; grad norm ${engine.gradNorm.toExponential(4)} rel diff ${normRel.toExponential(2)}`);
      expect(grad.scale).toBeGreaterThan(0);
      // float32 both sides, different summation orders (autograd vs explicit backward). Measured:
      // loss 2e-7 relative, gradients 1.3e-6 (soft, x0) and 1.9e-6 (DSM) of the largest gradient.
      // Tolerances: x_t 1e-6 absolute (values ~1); loss 1e-5 relative; gradients 2e-5 of the largest.
      expect(xt.abs).toBeLessThan(1e-6);
      expect(lossRel).toBeLessThan(1e-5);
      expect(per.abs).toBeLessThan(1e-5 * per.scale);
      expect(grad.abs).toBeLessThan(2e-5 * grad.scale);
      expect(normRel).toBeLessThan(1e-5);
      if (loss !== 'soft' || x0Weight) return;
      // After AdamW: m = (1 - b1) clip g and v = (1 - b2) (clip g)^2 (relative 1e-4 of their largest
      // values); the EMA mixes old and new weights; the weights themselves move by lr * m/(sqrt(v) +
      // eps), about lr * sign(g), which float error can flip where g ~ 0: bounded by 2 lr_t.
      const m = copyDiff(torch, 'adam_m', engine.adam_m);
      const v = copyDiff(torch, 'adam_v', engine.adam_v);
      const ema = copyDiff(torch, 'ema', engine.ema);
      const model = copyDiff(torch, 'model', engine.model);
      console.log(`soft step: adam_m ${m.abs.toExponential(2)}/${m.scale.toExponential(2)}, adam_v ${v.abs.toExponential(2)}/${v.scale.toExponential(2)}, ` +
        `ema ${ema.abs.toExponential(2)}, weights ${model.abs.toExponential(2)} (lr_1 ${(o().lr / o().warmupSteps).toExponential(2)})`);
      expect(m.abs).toBeLessThan(2e-5 * m.scale);
      expect(v.abs).toBeLessThan(4e-5 * v.scale);
      const lr1 = o().lr * Math.min(1, 1 / o().warmupSteps);
      expect(model.abs).toBeLessThan(2 * lr1 + 1e-6);
      expect(ema.abs).toBeLessThan((1 - o().emaDecay) * 2 * lr1 + 1e-6);
    });
  }
});

describe('the other built-in corruptions: a soft-loss step through C_t', () => {
  for (const corruption of ['mask', 'identity'] as const) {
    test(corruption, async () => {
      // an engine checkpoint trained with this corruption (its own schedules in the options)
      const bytes = await engineCheckpoint(ctx.gpu, 3, { ...INTEROP_OPTIONS, corruption });
      const path = join(tmp.dir, `engine-${corruption}.safetensors`);
      writeFileSync(path, bytes);
      const ck = decodeCheckpointFile(bytes, path);
      const o = ck.fields.options;
      const cfg = o.model;
      const dims = [o.batch, cfg.inChannels, cfg.imageSize, cfg.imageSize];
      const count = dims.reduce((a, b) => a * b, 1);
      const u = rng(41);
      const x0 = Float32Array.from({ length: count }, () => u());
      const eta = Float32Array.from(randn(count, 43));
      const levels = fillLevels(corruptionFromJSON(o.corruption), Schedule.fromJSON(o.noise), [0.05, 0.4, 0.7, 0.99]);
      const engine = await engineStep(ck, 'soft', x0, eta, levels);
      const inputs = writeTensors(join(tmp.dir, `grad-${corruption}.safetensors`), {
        x0: { shape: dims, data: x0 }, eta: { shape: dims, data: eta }, levels: { shape: [o.batch, LEVEL_STRIDE], data: levels },
      });
      const torch = runTorch(tmp.dir, 'grad', { checkpoint: path, inputs, loss: 'soft' });
      const xt = maxDiff(torch.get('xt')!, engine.xt);
      const lossRel = Math.abs(torch.get('loss')![0]! - engine.loss) / engine.loss;
      const grad = copyDiff(torch, 'grad', engine.grad);
      console.log(`${corruption}: x_t ${xt.abs.toExponential(2)} (|x_t| up to ${xt.scale.toFixed(2)}); loss ${engine.loss.toExponential(4)} rel diff ${lossRel.toExponential(2)}; ` +
        `gradient max |diff| ${grad.abs.toExponential(3)} of ${grad.scale.toExponential(3)}`);
      expect(grad.scale).toBeGreaterThan(0);
      // identity: sigma up to 50, so x_t is large; relative 1e-6 of its scale
      expect(xt.abs).toBeLessThan(1e-6 * Math.max(1, xt.scale));
      expect(lossRel).toBeLessThan(1e-5);
      expect(grad.abs).toBeLessThan(2e-5 * grad.scale);
    });
  }
});
