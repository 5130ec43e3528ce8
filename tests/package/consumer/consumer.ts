// A Node application using the installed package (copied into a fresh project by
// tests/package/consumer.test.ts; it sees the tarball, never src/). Type-checked with tsc against the
// package's declarations, then run with Node: load a tiny checkpoint, sample, train a few steps.
import { readFile } from 'node:fs/promises';
import { CheckpointError, SoftDiffusion, ValueError, type ModelInfo, type Samples, type TrainRunResult } from 'softdiff';
import { createNodeGpu, releaseNodeGpu } from 'softdiff/node';

const gpu = await createNodeGpu();
const bytes = new Uint8Array(await readFile(process.argv[2] ?? 'tiny.safetensors'));
const model = await SoftDiffusion.fromCheckpoint(gpu, bytes, { name: 'tiny.safetensors' });
const info: ModelInfo = model.info;
const samples: Samples = await model.sample({ count: 4, steps: 4, seed: 1, sampler: 'momentum' });
const grid = model.toRgba(samples, { padding: 1 });
// @ts-expect-error: sampler names are typed (this line fails to compile if the types were `any`)
const wrong = model.sample({ sampler: 'ddim' }).catch((e: unknown) => e instanceof ValueError);
let refused = '';
try {
  await SoftDiffusion.fromCheckpoint(gpu, bytes.subarray(0, 64), { name: 'cut.safetensors' });
} catch (e) {
  if (e instanceof CheckpointError) refused = e.message;
}
model.destroy();

const trainer = await SoftDiffusion.train(gpu, { synthetic: 'blobs', size: 8, length: 8 }, {
  model: 'mnist',
  modelOverrides: { baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 },
  batch: 2,
  logEvery: 1,
  priorBank: 2,
  sampleCount: 2,
  sampleSteps: 2,
});
const losses: number[] = [];
const stop = new AbortController();
const run: TrainRunResult = await trainer.run(3, { signal: stop.signal, onLog: (r) => void losses.push(r.loss) });
const checkpoint = await trainer.checkpoint();
const trained = await trainer.sample({ count: 2, seed: 3 });
trainer.destroy();
await gpu.done();
gpu.destroy();
releaseNodeGpu();

console.log(
  JSON.stringify({
    info: { step: info.step, imageShape: info.imageShape, format: info.format.version },
    shape: samples.shape,
    images: Array.from(samples.images),
    grid: [grid.width, grid.height],
    wrongSampler: await wrong,
    refused,
    run,
    losses,
    checkpointBytes: checkpoint.length,
    trainedShape: trained.shape,
  }),
);
