// The score-matching lab page: pick a density, an objective, noise levels and a model size; train
// live on the page's WebGPU device (src/lab/session.ts, the same code as `softdiff lab`); watch the
// true, target and learned vector fields over the density, the four objectives with their
// constants (the pairs coincide), and Langevin samples from the learned model. GPU work is queued
// asynchronously, so the page stays responsive; operations never overlap (one runs between two
// training chunks). window.lab exposes the state for tests/browser/lab.test.ts.
import { Gpu } from '../../src/gpu/gpu.ts';
import { EngineError } from '../../src/gpu/errors.ts';
import type { Image8 } from '../../src/io/grid.ts';
import { LabSession, type CurvePoint, type LabSettings } from '../../src/lab/session.ts';
import { COLORS, densityImage, drawPoints, toRgba } from '../../src/lab/render.ts';
import type { ObjectiveName, Projection } from '../../src/lab/objectives.ts';
import type { Activation } from '../../src/lab/score-model.ts';
import { CurvesChart } from './chart.ts';

type LabState = 'starting' | 'no-webgpu' | 'idle' | 'running' | 'paused' | 'error';

interface LabHandle {
  state: LabState;
  adapter: string;
  step: number;
  errors: string[];
  /** Field redraws and Langevin sample draws so far. */
  fields: number;
  samples: number;
  curve(): CurvePoint[];
  constants: { cIsm: number; cDsm: number; evalSet: { cIsm: number; cDsm: number } } | null;
  settings: LabSettings | null;
  chartRows(): number;
}

declare global {
  interface Window {
    lab: LabHandle;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number($<HTMLInputElement>(id).value);
const el = {
  adapter: $('adapter'),
  noGpu: $('no-webgpu'),
  noGpuDetail: $('no-webgpu-detail'),
  density: $<HTMLSelectElement>('density'),
  customRow: $('custom-row'),
  mixture: $<HTMLTextAreaElement>('mixture'),
  objective: $<HTMLSelectElement>('objective'),
  ncsnRow: $('ncsn-row'),
  ssmRow: $('ssm-row'),
  projection: $<HTMLSelectElement>('projection'),
  activation: $<HTMLSelectElement>('activation'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  sample: $<HTMLButtonElement>('sample'),
  truth: $<HTMLCanvasElement>('truth'),
  target: $<HTMLCanvasElement>('target'),
  targetFigure: $('target-figure'),
  targetCaption: $('target-caption'),
  learned: $<HTMLCanvasElement>('learned'),
  samples: $<HTMLCanvasElement>('samples'),
  samplesLabel: $('samples-label'),
  fieldLabel: $('field-label'),
  progress: $('progress'),
  status: $('status'),
  error: $('error'),
};

const SIZE = 288;
const GRID = 17;
const chart = new CurvesChart($('chart'));
let gpu: Gpu | null = null;
let session: LabSession | null = null;
let sessionKey = '';
let running = false;
let loopDone: Promise<void> = Promise.resolve();
let backdrop: Image8 | null = null;
const betweenChunks: (() => Promise<void>)[] = [];

window.lab = {
  state: 'starting',
  adapter: '',
  step: 0,
  errors: [],
  fields: 0,
  samples: 0,
  curve: () => session?.curve ?? [],
  constants: null,
  settings: null,
  chartRows: () => chart.length,
};

function setState(s: LabState): void {
  window.lab.state = s;
  el.start.disabled = s === 'running' || s === 'starting' || s === 'no-webgpu';
  el.pause.disabled = s !== 'running';
  el.sample.disabled = !session || s === 'starting' || s === 'no-webgpu';
}

function status(text: string): void {
  el.status.textContent = text;
}

function showError(e: unknown): void {
  const message = e instanceof EngineError ? e.message : String((e as Error)?.message ?? e);
  window.lab.errors.push(message);
  el.error.textContent = message;
  el.error.hidden = false;
  status('error');
}

function settingsFromForm(): LabSettings {
  const objective = el.objective.value as ObjectiveName;
  return {
    density: el.density.value === 'custom' ? el.mixture.value : el.density.value,
    objective,
    sigma: num('sigma'),
    sigmaMax: num('sigma-max'),
    sigmaMin: num('sigma-min'),
    levels: num('levels'),
    projections: num('projections'),
    projection: el.projection.value as Projection,
    model: { width: num('width'), depth: num('depth'), activation: el.activation.value as Activation },
    batch: num('batch'),
    lr: num('lr'),
    seed: num('seed'),
    evalPoints: num('eval-points'),
    langevin: { chains: num('chains') },
  };
}

function syncRows(): void {
  el.customRow.hidden = el.density.value !== 'custom';
  el.ncsnRow.hidden = el.objective.value !== 'ncsn';
  el.ssmRow.hidden = !el.objective.value.startsWith('ssm');
}

function put(canvas: HTMLCanvasElement, img: Image8): void {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d')!.putImageData(new ImageData(toRgba(img) as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
}

async function drawFields(): Promise<void> {
  const s = session!;
  const p = s.fieldPanels(await s.field(GRID, SIZE), backdrop!);
  put(el.truth, p.truth);
  el.targetFigure.hidden = !p.target;
  if (p.target) put(el.target, p.target);
  put(el.learned, p.learned);
  el.fieldLabel.textContent = `step ${s.step}`;
  window.lab.fields++;
}

/** A session for the form's settings (a new one when they changed). */
async function ensureSession(): Promise<LabSession> {
  const settings = settingsFromForm();
  const key = JSON.stringify(settings);
  if (session && key === sessionKey) return session;
  session?.destroy();
  session = null;
  chart.clear();
  status('compiling kernels and computing the constants');
  gpu ??= await Gpu.create(navigator.gpu, { runtime: 'browser' });
  session = await LabSession.create(gpu, settings);
  sessionKey = key;
  window.lab.settings = settings;
  const ev = session.evaluator;
  window.lab.constants = { cIsm: ev.cIsm, cDsm: ev.cDsm, evalSet: ev.sampleConstants };
  backdrop = densityImage(session.density, session.box, SIZE, 0.55);
  put(el.samples, backdrop);
  el.samplesLabel.textContent = '';
  const target = session.targetDensity();
  el.targetCaption.textContent = settings.objective === 'esm-parzen' ? `target: the Parzen estimate's score, σ = ${ev.sigma} (blue)` : `target: ∇ log q_σ, σ = ${ev.sigma} (blue)`;
  el.targetFigure.hidden = !target;
  return session;
}

function onPoint(p: CurvePoint): void {
  const ev = session!.evaluator;
  chart.add(p, ev.cIsm, ev.cDsm);
  window.lab.step = p.step;
  el.progress.textContent = `step ${p.step}: J_ESM(p) ${p.esm.toPrecision(4)}, J_ESM(q_σ) ${p.esmSmoothed.toPrecision(4)}${Number.isFinite(p.loss) ? `, training loss ${p.loss.toPrecision(4)}` : ''}`;
}

async function trainLoop(): Promise<void> {
  const s = session!;
  const total = num('steps');
  const every = Math.max(1, num('every'));
  const t0 = performance.now();
  const s0 = s.step;
  while (running && s.step < total) {
    await s.train(Math.min(every, total - s.step), { every, total, onPoint });
    await drawFields();
    status(`training: ${s.step} / ${total} steps, ${(((s.step - s0) * 1000) / (performance.now() - t0)).toFixed(1)} steps/s`);
    while (betweenChunks.length) await betweenChunks.shift()!();
  }
  while (betweenChunks.length) await betweenChunks.shift()!();
  if (s.step >= total) status(`done: ${s.step} steps`);
}

/** Run `job` now, or between two training chunks while training runs. */
function exclusive(job: () => Promise<void>): Promise<void> {
  if (!running) return job();
  return new Promise((resolve, reject) => betweenChunks.push(() => job().then(resolve, reject)));
}

async function start(): Promise<void> {
  el.error.hidden = true;
  setState('running');
  try {
    const s = await ensureSession();
    if (s.curve.length === 0) await drawFields();
    running = true;
    loopDone = trainLoop();
    await loopDone;
    running = false;
    setState(window.lab.state === 'running' ? 'paused' : window.lab.state);
  } catch (e) {
    running = false;
    setState('error');
    showError(e);
  }
}

async function pause(): Promise<void> {
  running = false;
  await loopDone;
  setState('paused');
  status(`paused at step ${session?.step ?? 0}`);
}

async function sample(): Promise<void> {
  await exclusive(async () => {
    try {
      const s = await ensureSession();
      const o = s.langevinDefaults();
      status(`Langevin: ${o.chains} chains, ${o.steps} steps${o.sigmas ? ` x ${o.sigmas.length} levels` : ''}, step size ${o.eps.toPrecision(2)}`);
      const x = await s.samples();
      const img: Image8 = { ...backdrop!, data: backdrop!.data.slice() };
      drawPoints(img, s.box, x, COLORS.sample, 1.2, 0.8, s.density.dim);
      put(el.samples, img);
      el.samplesLabel.textContent = `${o.chains} chains at step ${s.step}${o.sigmas ? ' (annealed)' : ''}`;
      window.lab.samples++;
      setState(running ? 'running' : 'paused');
      if (!running) status(`samples drawn at step ${s.step}`);
    } catch (e) {
      showError(e);
    }
  });
}

async function init(): Promise<void> {
  syncRows();
  for (const e of [el.density, el.objective]) e.addEventListener('change', syncRows);
  el.start.addEventListener('click', () => void start());
  el.pause.addEventListener('click', () => void pause());
  el.sample.addEventListener('click', () => void sample());
  if (!navigator.gpu) {
    el.noGpu.hidden = false;
    el.noGpuDetail.textContent = 'navigator.gpu is missing in this browser.';
    el.adapter.textContent = 'no WebGPU';
    setState('no-webgpu');
    return;
  }
  try {
    gpu = await Gpu.create(navigator.gpu, { runtime: 'browser' });
    window.lab.adapter = gpu.adapter.description || gpu.adapter.key;
    el.adapter.textContent = `adapter: ${window.lab.adapter}${gpu.adapter.software ? ' (software: keep the model small)' : ''}`;
    setState('idle');
    status('ready: choose a density and an objective, then Start');
  } catch (e) {
    el.noGpu.hidden = false;
    el.noGpuDetail.textContent = String((e as Error).message ?? e);
    setState('no-webgpu');
  }
}

void init();
