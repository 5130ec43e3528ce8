// The demo page: controls, the loss chart, the sample grid and the reverse-process animation. All
// GPU work happens in demos/worker.ts; this file only sends commands and draws what comes back.
// window.demo exposes the page's state for the browser tests (tests/browser/demo.test.ts).
import { DEMO_PRESETS } from './presets.ts';
import { LossChart } from './loss-chart.ts';
import { Animation, drawPicture } from './pictures.ts';
import { SCORE_COUNT, type DatasetSpec, type DemoScores, type FromWorker, type ModelInfo, type Picture, type ToWorker, type TrainSettings } from './protocol.ts';

type DemoState = 'starting' | 'no-webgpu' | 'idle' | 'loading' | 'ready' | 'running' | 'paused' | 'error';

interface DemoHandle {
  state: DemoState;
  adapter: string;
  model: ModelInfo | null;
  step: number;
  /** Number of sample grids received, and the last one. */
  samples: number;
  lastSamples: { step: number; seed: number; grid: Picture; frames: number } | null;
  lastCheckpoint: { name: string; bytes: Uint8Array } | null;
  /** The last quality scores received. */
  lastScores: DemoScores | null;
  errors: string[];
  losses(): { step: number; loss: number }[];
  /** For the tests: the worker's live GPU buffers (gpu.census), after every earlier command. */
  census(): Promise<{ buffers: number; bytes: number; session: boolean }>;
  /** For the tests: build a new training session (the old one is destroyed); resolves when it is ready. */
  rebuild(settings: TrainSettings): Promise<void>;
  /** Stop and destroy the session (what leaving the page would do). */
  release(): void;
}

declare global {
  interface Window {
    demo: DemoHandle;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = {
  adapter: $('adapter'),
  noGpu: $('no-webgpu'),
  noGpuDetail: $('no-webgpu-detail'),
  dataset: $<HTMLSelectElement>('dataset'),
  imagesRow: $('images-row'),
  images: $<HTMLInputElement>('images'),
  imagesCount: $('images-count'),
  sizeRow: $('size-row'),
  size: $<HTMLSelectElement>('size'),
  channelsRow: $('channels-row'),
  channels: $<HTMLSelectElement>('channels'),
  preset: $<HTMLSelectElement>('preset'),
  presetNote: $('preset-note'),
  corruption: $<HTMLSelectElement>('corruption'),
  batch: $<HTMLInputElement>('batch'),
  lr: $<HTMLInputElement>('lr'),
  warmup: $<HTMLInputElement>('warmup'),
  logEvery: $<HTMLInputElement>('log-every'),
  sampleEvery: $<HTMLInputElement>('sample-every'),
  sampleCount: $<HTMLInputElement>('sample-count'),
  sampleSteps: $<HTMLInputElement>('sample-steps'),
  seed: $<HTMLInputElement>('seed'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  sample: $<HTMLButtonElement>('sample'),
  save: $<HTMLButtonElement>('save'),
  load: $<HTMLInputElement>('load'),
  score: $<HTMLButtonElement>('score'),
  scoreCount: $<HTMLInputElement>('score-count'),
  scores: $('scores'),
  progress: $('progress'),
  samples: $<HTMLCanvasElement>('samples'),
  samplesLabel: $('samples-label'),
  animation: $<HTMLCanvasElement>('animation'),
  animationLabel: $('animation-label'),
  model: $('model'),
  status: $('status'),
  error: $('error'),
  overlay: $('drop-overlay'),
};

const chart = new LossChart($('chart'));
const animation = new Animation(el.animation, el.animationLabel);
let droppedImages: File[] = [];
/** The settings changed since the model was made: Start makes a new one. */
let dirty = true;

const demo: DemoHandle = {
  state: 'starting',
  adapter: '',
  model: null,
  step: 0,
  samples: 0,
  lastSamples: null,
  lastCheckpoint: null,
  lastScores: null,
  errors: [],
  losses: () => chart.points,
  census: () => new Promise((resolve) => {
    replies.census.push(resolve);
    send({ type: 'census' });
  }),
  rebuild: (settings) => new Promise((resolve) => {
    replies.model.push(resolve);
    send({ type: 'init', settings });
  }),
  release: () => send({ type: 'release' }),
};
/** Promises waiting for the worker's next reply of a kind (the demo hooks above). */
const replies = { census: [] as ((c: { buffers: number; bytes: number; session: boolean }) => void)[], model: [] as (() => void)[] };
window.demo = demo;

for (const [name, p] of Object.entries(DEMO_PRESETS)) el.preset.add(new Option(name, name, name === 'tiny', name === 'tiny'));

function setState(s: DemoState): void {
  demo.state = s;
  const hasModel = !!demo.model;
  const training = demo.model?.mode === 'train';
  el.start.disabled = !['idle', 'ready', 'paused'].includes(s) || (!dirty && hasModel && !training);
  el.start.textContent = s === 'paused' && !dirty ? 'Resume' : 'Start';
  el.pause.disabled = s !== 'running';
  el.sample.disabled = !hasModel || !['ready', 'paused', 'running'].includes(s);
  el.save.disabled = el.sample.disabled;
  el.score.disabled = el.sample.disabled || !demo.model?.scorable;
  el.load.disabled = s === 'no-webgpu' || s === 'loading';
}

function showError(message: string, hint = ''): void {
  demo.errors.push(message);
  el.error.hidden = false;
  el.error.textContent = hint ? `${message}\n${hint}` : message;
}

function syncControls(): void {
  const kind = el.dataset.value;
  el.imagesRow.hidden = kind !== 'images';
  el.sizeRow.hidden = kind === 'mnist';
  el.channelsRow.hidden = kind === 'mnist' || kind === 'emoji';
  el.presetNote.textContent = DEMO_PRESETS[el.preset.value]?.note ?? '';
  // Emoji sheets exist in four sizes only.
  for (const o of el.size.options) o.disabled = kind === 'emoji' && o.value === '8';
  if (el.size.selectedOptions[0]?.disabled) el.size.value = '16';
}

function datasetSpec(): Promise<DatasetSpec> | DatasetSpec {
  const size = Number(el.size.value);
  const channels = Number(el.channels.value) as 1 | 3;
  switch (el.dataset.value) {
    case 'mnist':
      return { kind: 'mnist' };
    case 'emoji':
      return { kind: 'emoji', size: size as 16 | 20 | 32 | 64 };
    case 'blobs':
      return { kind: 'blobs', size, channels };
    default:
      if (!droppedImages.length) throw new Error('Drop some images on the page (or choose them) first.');
      return Promise.all(droppedImages.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))).then((files) => ({ kind: 'images' as const, size, channels, files }));
  }
}

async function settings(): Promise<TrainSettings> {
  const num = (i: HTMLInputElement) => Number(i.value);
  return {
    dataset: await datasetSpec(),
    preset: el.preset.value,
    corruption: el.corruption.value as TrainSettings['corruption'],
    batch: num(el.batch),
    lr: num(el.lr),
    warmupSteps: num(el.warmup),
    logEvery: Math.max(1, num(el.logEvery)),
    sampleEvery: Math.max(0, num(el.sampleEvery)),
    sampleCount: num(el.sampleCount),
    sampleSteps: num(el.sampleSteps),
    seed: num(el.seed),
  };
}

// The worker is only started where the page itself has WebGPU (it probes the adapter at once).
const worker = navigator.gpu ? new Worker(new URL('../worker.ts', import.meta.url), { type: 'module', name: 'softdiff-trainer' }) : null;
function send(m: ToWorker, transfer: Transferable[] = []): void {
  worker?.postMessage(m, transfer);
}

if (worker) {
  worker.onerror = (e) => {
    showError(`The training worker failed to start: ${e.message || 'unknown error'}`);
    setState('error');
  };
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onWorkerMessage(ev.data);
}

function onWorkerMessage(m: FromWorker): void {
  switch (m.type) {
    case 'ready':
      demo.adapter = m.adapter;
      el.adapter.textContent = `WebGPU adapter: ${m.adapter}${m.software ? ' (a software adapter: expect slow training; the tiny preset and small images suit it)' : ''}`;
      if (demo.state === 'starting') setState('idle');
      break;
    case 'no-webgpu':
      noWebGpu(m.message, m.hint);
      break;
    case 'status':
      el.status.textContent = m.text;
      break;
    case 'census':
      replies.census.shift()?.({ buffers: m.buffers, bytes: m.bytes, session: m.session });
      break;
    case 'model':
      replies.model.shift()?.();
      demo.model = m.info;
      demo.step = m.info.step;
      el.model.textContent = `${m.info.mode === 'train' ? 'training' : 'sampling only'}: ${m.info.dataset}, ${m.info.imageShape.join('×')}, ${m.info.preset}, ${m.info.parameters.toLocaleString()} parameters, ${m.info.corruption} corruption${m.info.mode === 'sample' ? `, trained for ${m.info.step} steps` : ''}; previews: ${m.info.sampleCount} images, ${m.info.sampleSteps} sampler steps`;
      if (m.info.mode === 'sample') {
        chart.clear();
        el.progress.textContent = `checkpoint at step ${m.info.step}`;
      }
      dirty = false;
      setState(m.info.mode === 'sample' ? 'ready' : demo.state);
      break;
    case 'losses':
      demo.step = m.step;
      chart.add(m.points);
      el.progress.textContent = `step ${m.step}${m.stepsPerSecond ? `, ${m.stepsPerSecond.toFixed(1)} steps/s` : ''}, loss ${m.points.at(-1)!.loss.toPrecision(4)}`;
      break;
    case 'running':
      if (m.running) setState('running');
      else if (demo.state === 'running') setState('paused');
      el.status.textContent = m.running ? 'training' : 'paused';
      break;
    case 'samples':
      demo.samples++;
      demo.lastSamples = { step: m.step, seed: m.seed, grid: m.grid, frames: m.frames.length };
      drawPicture(el.samples, m.grid);
      el.samplesLabel.textContent = `step ${m.step}, seed ${m.seed}`;
      animation.play(m.frames);
      break;
    case 'scores':
      demo.lastScores = m.scores;
      el.scores.textContent = formatScores(m.scores);
      break;
    case 'checkpoint':
      demo.lastCheckpoint = { name: m.name, bytes: new Uint8Array(m.bytes) };
      download(m.name, m.bytes);
      el.status.textContent = `checkpoint of step ${m.step} downloaded as ${m.name} (${(m.bytes.byteLength / 1e6).toFixed(2)} MB)`;
      break;
    case 'error':
      showError(m.message, m.hint);
      setState(demo.model ? (demo.state === 'running' ? 'paused' : demo.state === 'loading' ? 'ready' : demo.state) : 'idle');
      break;
  }
}

/** One line beside the loss chart; docs/quality.md explains each number. */
function formatScores(s: DemoScores): string {
  const floor = s.realFd !== undefined ? ` (real digits: ${s.realFd.toFixed(1)})` : '';
  return (
    `step ${s.step}, ${s.count} samples (${s.sampler}, ${s.steps} steps): Fréchet distance ${s.fd.toFixed(1)}${floor} · ` +
    `precision ${s.precision.toFixed(2)} · recall ${s.recall.toFixed(2)} · class entropy ${s.classEntropy.toFixed(2)} · ${s.seconds.toFixed(0)} s`
  );
}

function noWebGpu(message: string, hint: string): void {
  el.noGpu.hidden = false;
  el.noGpuDetail.textContent = `${message} ${hint}`;
  el.adapter.textContent = 'no WebGPU adapter';
  el.status.textContent = 'WebGPU is not available: see the note at the top of the page.';
  setState('no-webgpu');
}

function download(name: string, bytes: ArrayBuffer): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function loadCheckpoint(file: File): Promise<void> {
  const bytes = await file.arrayBuffer();
  setState('loading');
  el.error.hidden = true;
  send({ type: 'load', name: file.name, bytes }, [bytes]);
}

function setImages(files: File[]): void {
  droppedImages = files.filter((f) => f.type.startsWith('image/') || /\.(png|jpe?g|webp|gif|bmp)$/i.test(f.name));
  el.imagesCount.textContent = `${droppedImages.length} image(s)`;
  el.dataset.value = 'images';
  dirty = true;
  syncControls();
  setState(demo.state);
}

el.start.onclick = async () => {
  el.error.hidden = true;
  if (dirty || !demo.model || demo.model.mode !== 'train') {
    let s: TrainSettings;
    try {
      s = await settings();
    } catch (e) {
      showError((e as Error).message);
      return;
    }
    chart.clear();
    demo.model = null;
    demo.lastScores = null;
    el.scores.textContent = '';
    setState('loading');
    send({ type: 'init', settings: s, start: true });
  } else send({ type: 'start' });
};
el.pause.onclick = () => send({ type: 'pause' });
el.sample.onclick = () => send({ type: 'sample', seed: Number(el.seed.value), frames: 16 });
el.save.onclick = () => send({ type: 'save' });
el.score.onclick = () => {
  const count = Number(el.scoreCount.value);
  if (!Number.isInteger(count) || count < SCORE_COUNT.min || count > SCORE_COUNT.max) {
    showError(`Samples to score must be a whole number from ${SCORE_COUNT.min} to ${SCORE_COUNT.max}, got "${el.scoreCount.value}".`, 'Set the number next to the Score button; 256 or more gives comparable Fréchet distances (docs/quality.md).');
    return;
  }
  el.error.hidden = true;
  el.scores.textContent = `scoring ${count} samples…`;
  send({ type: 'score', count });
};
el.load.onchange = () => {
  const f = el.load.files?.[0];
  if (f) void loadCheckpoint(f);
  el.load.value = '';
};
el.images.onchange = () => setImages([...(el.images.files ?? [])]);
$('controls').addEventListener('change', (ev) => {
  const id = (ev.target as HTMLElement).id;
  if (id === 'load' || id === 'images') return;
  if (id !== 'seed') dirty = true;
  syncControls();
  setState(demo.state);
});

// Drag and drop anywhere: a checkpoint loads for sampling, images become the training set.
let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  e.preventDefault();
  dragDepth++;
  el.overlay.hidden = false;
});
document.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    el.overlay.hidden = true;
  }
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  el.overlay.hidden = true;
  const files = [...(e.dataTransfer?.files ?? [])];
  const ckpt = files.find((f) => f.name.endsWith('.safetensors'));
  if (ckpt) void loadCheckpoint(ckpt);
  else if (files.length) setImages(files);
});

syncControls();
if (!navigator.gpu) noWebGpu('This browser does not expose WebGPU (navigator.gpu is missing).', 'See below for how to turn it on.');
else setState('starting');
