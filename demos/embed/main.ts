// The smallest page that embeds the engine: it makes its own WebGPU device (as a page that renders
// with WebGPU already has one), wraps it with Gpu.fromDevice, loads a training checkpoint with
// SoftDiffusion.fromCheckpoint and samples into a canvas with the checkpoint's EMA weights.
// docs/embedding.md walks through the same steps. This page imports the package's entry point from
// the source tree; an application writes `import { Gpu, SoftDiffusion } from 'softdiff'` instead.
import { EngineError, Gpu, NoAdapterError, SoftDiffusion } from '../../src/index.ts';

declare global {
  interface Window {
    /** For the browser test: resolves with what was drawn, or rejects with the error shown. */
    embedDone?: Promise<{ seed: number; shape: number[]; images: number[] }>;
  }
}

const canvas = document.getElementById('samples') as HTMLCanvasElement;
const status = document.getElementById('status')!;
const params = new URLSearchParams(location.search);
const seed = Number(params.get('seed') ?? 0);
const count = Number(params.get('count') ?? 16);
const steps = params.get('steps') ? Number(params.get('steps')) : undefined;

let gpuPromise: Promise<Gpu> | null = null;

/** The page's own device, shared with the engine. */
async function pageGpu(): Promise<Gpu> {
  if (!navigator.gpu) throw new NoAdapterError('browser', 'navigator.gpu is missing');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new NoAdapterError('browser', 'requestAdapter() returned null');
  // Ask for the adapter's storage-buffer maximum: the default (128 MiB) is too small for big models.
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  return Gpu.fromDevice(device, adapter.info);
}

async function sampleCheckpoint(bytes: Uint8Array, name: string) {
  const gpu = await (gpuPromise ??= pageGpu());
  const model = await SoftDiffusion.fromCheckpoint(gpu, bytes, { name, count, steps, sampler: 'momentum' });
  try {
    const { nfe } = await model.plan();
    status.textContent = `sampling ${count} images (${nfe} network evaluations) on ${gpu.adapter.description || gpu.adapter.key}`;
    const samples = await model.sample({ seed });
    const image = model.toImageData(samples, { padding: 1 });
    canvas.width = image.width;
    canvas.height = image.height;
    canvas.getContext('2d')!.putImageData(image, 0, 0);
    const { step, imageShape: [c, h, w], corruption } = model.info;
    status.textContent = `${name}: step ${step}, ${c}x${h}x${w}, ${corruption} corruption, seed ${seed}`;
    return { seed, shape: [...samples.shape], images: Array.from(samples.images) };
  } finally {
    model.destroy();
  }
}

function show(p: Promise<{ seed: number; shape: number[]; images: number[] }>) {
  window.embedDone = p;
  p.catch((e: unknown) => {
    status.className = 'error';
    status.textContent = e instanceof EngineError ? e.message : String((e as Error)?.message ?? e);
  });
}

const url = params.get('checkpoint');
if (url)
  show(
    fetch(url).then(async (r) => {
      if (!r.ok) throw new EngineError(`Could not fetch ${url}: HTTP ${r.status}.`);
      return sampleCheckpoint(new Uint8Array(await r.arrayBuffer()), url.split('/').pop()!);
    }),
  );
(document.getElementById('file') as HTMLInputElement).onchange = (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (f) show(f.arrayBuffer().then((b) => sampleCheckpoint(new Uint8Array(b), f.name)));
};
