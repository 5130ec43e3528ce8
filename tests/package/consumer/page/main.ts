// A page bundled by Vite from the installed package (tests/package/consumer.test.ts): samples the
// tiny checkpoint into a canvas and trains two steps from ImageBitmaps, on the browser's WebGPU.
import { Gpu, SoftDiffusion, type TrainRunResult } from 'softdiff';

interface Result {
  images: number[];
  shape: number[];
  canvas: [number, number];
  run: TrainRunResult;
  adapter: string;
}

declare global {
  interface Window {
    consumerDone?: Promise<Result>;
  }
}

async function main(): Promise<Result> {
  const gpu = await Gpu.create(navigator.gpu);
  const bytes = new Uint8Array(await (await fetch('./tiny.safetensors')).arrayBuffer());
  const model = await SoftDiffusion.fromCheckpoint(gpu, bytes, { name: 'tiny.safetensors' });
  const samples = await model.sample({ count: 4, steps: 4, seed: 1, sampler: 'momentum' });
  const canvas = document.getElementById('samples') as HTMLCanvasElement;
  const image = model.toImageData(samples, { padding: 1 });
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  model.destroy();

  const bitmaps = await Promise.all(
    [1, 2, 3].map((k) => createImageBitmap(new ImageData(Uint8ClampedArray.from({ length: 10 * 9 * 4 }, (_, i) => (i * k * 7) % 256), 10, 9))),
  );
  const trainer = await SoftDiffusion.train(gpu, { images: bitmaps, size: 8 }, {
    model: 'mnist',
    modelOverrides: { baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 },
    batch: 2,
    priorBank: 2,
  });
  const run = await trainer.run(2);
  trainer.destroy();
  return { images: Array.from(samples.images), shape: samples.shape, canvas: [canvas.width, canvas.height], run, adapter: gpu.adapter.key };
}

window.consumerDone = main();
