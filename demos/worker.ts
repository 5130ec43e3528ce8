// The demo's training worker: owns the GPU device (WebGPU works in dedicated workers), the data set
// and the session; runs training steps in a loop that checks for pause between steps, so the page
// stays responsive however slow the adapter is. Protocol: demos/app/protocol.ts.
import { Gpu } from '../src/gpu/gpu.ts';
import { EngineError, NoAdapterError } from '../src/gpu/errors.ts';
import { loadDataset } from './app/datasets.ts';
import { SamplingSession, TrainingSession, type PreviewResult } from './app/engine.ts';
import type { FromWorker, ToWorker, TrainSettings } from './app/protocol.ts';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let gpu: Gpu | null = null;
let session: TrainingSession | SamplingSession | null = null;
let settings: TrainSettings | null = null;
let running = false;
/** Resolves when the training loop has returned (after a pause). */
let loopDone: Promise<void> = Promise.resolve();
/** Work that must not overlap a training step (sampling, checkpoints): run by the loop between steps. */
const betweenSteps: (() => Promise<void>)[] = [];
/** Messages are handled one at a time, in order (init, then start, then pause...). */
let queue: Promise<void> = Promise.resolve();

function post(m: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

function reportError(e: unknown): void {
  const err = e as Error;
  const hint = e instanceof EngineError ? e.hint : '';
  const message = e instanceof EngineError && hint ? err.message.slice(0, err.message.indexOf('\n  -> ')) : String(err?.message ?? e);
  post({ type: 'error', message, hint });
}

async function device(): Promise<Gpu> {
  if (gpu) return gpu;
  gpu = await Gpu.create(navigator.gpu, { runtime: 'browser' });
  post({ type: 'ready', adapter: gpu.adapter.description || gpu.adapter.key, software: gpu.adapter.software });
  return gpu;
}

function postSamples(step: number, seed: number, r: PreviewResult): void {
  const transfer = [r.grid.rgba.buffer, ...r.frames.map((f) => f.picture.rgba.buffer)];
  post({ type: 'samples', step, seed, grid: r.grid, frames: r.frames }, transfer);
}

/** Run `job` now, or between two steps while training runs. */
function exclusive(job: () => Promise<void>): Promise<void> {
  if (!running) return job();
  return new Promise((resolve, reject) => betweenSteps.push(() => job().then(resolve, reject)));
}

async function stopTraining(): Promise<void> {
  running = false;
  await loopDone;
}

async function init(s: TrainSettings): Promise<void> {
  await stopTraining();
  session?.destroy();
  session = null;
  const g = await device();
  post({ type: 'status', text: 'loading the data set' });
  const data = await loadDataset(s.dataset, (text) => post({ type: 'status', text }));
  post({ type: 'status', text: `planning the network and compiling kernels for ${data.name}` });
  session = await TrainingSession.create(g, data, s);
  settings = s;
  post({ type: 'model', info: session.info });
  post({ type: 'status', text: 'ready to train' });
}

/** The training loop: runs until paused; losses are batched into one message per ~100 ms. */
async function trainLoop(): Promise<void> {
  const s = session;
  if (!(s instanceof TrainingSession) || !settings) throw new EngineError('Nothing to train.', 'Choose a data set and press Start (a loaded checkpoint only samples).');
  const cfg = settings;
  running = true;
  post({ type: 'running', running: true });
  let points: { step: number; loss: number }[] = [];
  let lastPost = performance.now();
  let windowStart = performance.now();
  let windowSteps = 0;
  try {
    while (running && session === s) {
      const next = s.trainer.currentStep + 1;
      const r = await s.step(next % cfg.logEvery === 0);
      windowSteps++;
      if (r.loss !== undefined) points.push({ step: r.step, loss: r.loss });
      const now = performance.now();
      if (points.length && now - lastPost > 100) {
        post({ type: 'losses', points, step: r.step, stepsPerSecond: (1000 * windowSteps) / (now - windowStart) });
        points = [];
        lastPost = now;
        windowStart = now;
        windowSteps = 0;
      }
      if (cfg.sampleEvery > 0 && r.step % cfg.sampleEvery === 0) postSamples(r.step, cfg.seed, await s.sample(cfg.seed, 16));
      while (betweenSteps.length) await betweenSteps.shift()!();
      // Let pause and sample messages in between steps even when the GPU promises resolve at once.
      await new Promise((res) => setTimeout(res, 0));
    }
  } finally {
    while (betweenSteps.length) await betweenSteps.shift()!().catch(() => {});
    if (points.length) post({ type: 'losses', points, step: s.trainer.currentStep, stepsPerSecond: 0 });
    running = false;
    post({ type: 'running', running: false });
  }
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init':
      await init(m.settings);
      if (m.start) loopDone = trainLoop().catch(reportError);
      return;
    case 'start':
      if (!running) loopDone = trainLoop().catch(reportError);
      return;
    case 'pause':
      running = false;
      return;
    case 'sample': {
      if (!session) throw new EngineError('No model yet.', 'Start training or load a checkpoint first.');
      const s = session;
      return exclusive(async () => {
        const step = s instanceof TrainingSession ? s.trainer.currentStep : s.info.step;
        postSamples(step, m.seed, await s.sample(m.seed, m.frames ?? 16));
      });
    }
    case 'save': {
      if (!session) throw new EngineError('No model to save yet.', 'Start training first.');
      const s = session;
      return exclusive(async () => {
        const bytes = await s.checkpoint();
        const step = s instanceof TrainingSession ? s.trainer.currentStep : s.info.step;
        const copy = bytes.slice().buffer;
        post({ type: 'checkpoint', step, name: `softdiff-${s.info.dataset.split(' ')[0]}-step${step}.safetensors`, bytes: copy }, [copy]);
      });
    }
    case 'score': {
      if (!session) throw new EngineError('No model yet.', 'Start training or load a checkpoint first.');
      const s = session;
      return exclusive(async () => {
        post({ type: 'status', text: `scoring ${m.count} samples` });
        post({ type: 'scores', scores: await s.score(m.count) });
        post({ type: 'status', text: running ? 'training' : 'scored' });
      });
    }
    case 'release':
      await stopTraining();
      session?.destroy();
      session = null;
      settings = null;
      post({ type: 'status', text: 'released the model' });
      return;
    case 'census': {
      const g = await device();
      await g.done();
      post({ type: 'census', ...g.census.snapshot(), session: !!session });
      return;
    }
    case 'load': {
      await stopTraining();
      const g = await device();
      const next = await SamplingSession.fromCheckpoint(g, new Uint8Array(m.bytes), m.name);
      session?.destroy();
      session = next;
      settings = null;
      post({ type: 'model', info: next.info });
      post({ type: 'status', text: `loaded ${m.name}: sampling only` });
      return;
    }
  }
}

scope.onmessage = (ev) => {
  const m = ev.data;
  // Pause must act at once, not after the queued work (the training loop is not in the queue).
  if (m.type === 'pause') {
    running = false;
    return;
  }
  queue = queue.then(() => handle(m)).catch(reportError);
};

// Probe the device at start so that the page learns early whether WebGPU works here.
if (!navigator.gpu) {
  const e = new NoAdapterError('browser', 'navigator.gpu is missing in this worker');
  post({ type: 'no-webgpu', message: 'WebGPU is not available in this browser.', hint: e.hint });
} else {
  device().catch((e: unknown) => {
    const hint = e instanceof EngineError ? e.hint : new NoAdapterError('browser').hint;
    post({ type: 'no-webgpu', message: `WebGPU is present but no adapter could be used: ${(e as Error).message.split('\n')[0]}`, hint });
  });
}
