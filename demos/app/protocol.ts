// The messages between the demo page and its training worker (demos/worker.ts). Everything is plain
// structured-clone data; pixel and checkpoint buffers are transferred, not copied.

/** Which images to train on. User images arrive as encoded files and are decoded in the worker. */
export type DatasetSpec =
  | { kind: 'mnist' }
  | { kind: 'emoji'; size: 16 | 20 | 32 | 64 }
  | { kind: 'blobs'; size: number; channels: 1 | 3; length?: number }
  | { kind: 'images'; size: number; channels: 1 | 3; files: { name: string; bytes: ArrayBuffer }[] };

export interface TrainSettings {
  dataset: DatasetSpec;
  /** A U-Net preset name (src/nn/config.ts) or 'tiny' (a demo-sized network, see engine.ts). */
  preset: string;
  corruption: 'blur' | 'mask' | 'identity';
  batch: number;
  lr: number;
  warmupSteps?: number;
  /** Read the loss back every this many steps (each read waits for the GPU). */
  logEvery: number;
  /** A preview grid (and animation) every this many steps; 0 = only on request. */
  sampleEvery: number;
  sampleCount: number;
  sampleSteps: number;
  seed: number;
}

/** An RGBA picture ready for putImageData. */
export interface Picture {
  width: number;
  height: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

export type ToWorker =
  /** A new training session; with start, training begins once it is ready. */
  | { type: 'init'; settings: TrainSettings; start?: boolean }
  | { type: 'start' }
  | { type: 'pause' }
  /** Sample a grid (and animation frames) with the EMA weights, now. */
  | { type: 'sample'; seed: number; frames?: number }
  | { type: 'save' }
  /** Checkpoint bytes from a file: switches to sampling-only mode. */
  | { type: 'load'; name: string; bytes: ArrayBuffer }
  /** Quality scores of `count` samples (within SCORE_COUNT) of the current (EMA) weights (MNIST models). */
  | { type: 'score'; count: number }
  /** Stop and destroy the session: every GPU buffer it held is released (the device stays). */
  | { type: 'release' }
  /** Report the device's live GPU buffers (gpu.census): the tests check that rebuilding leaks none. */
  | { type: 'census' };

/**
 * How many samples the Score button may ask for: more than the k = 3 neighbours of precision/recall,
 * and no more than the 2,000 held-out digits they are compared with.
 */
export const SCORE_COUNT = { min: 4, max: 2000 } as const;

/** Quality scores as the page shows them (docs/quality.md). */
export interface DemoScores {
  step: number;
  count: number;
  sampler: string;
  steps: number;
  fd: number;
  precision: number;
  recall: number;
  classEntropy: number;
  confidence: number;
  /** Real digits' Fréchet distance at the same count, when the classifier file records it. */
  realFd?: number;
  seconds: number;
}

export interface ModelInfo {
  mode: 'train' | 'sample';
  dataset: string;
  imageShape: [number, number, number];
  parameters: number;
  preset: string;
  corruption: string;
  step: number;
  sampleCount: number;
  sampleSteps: number;
  /** Whether quality scores apply (an MNIST-shaped model). */
  scorable: boolean;
}

export type FromWorker =
  | { type: 'ready'; adapter: string; software: boolean }
  | { type: 'no-webgpu'; message: string; hint: string }
  | { type: 'status'; text: string }
  | { type: 'model'; info: ModelInfo }
  /** Losses read back since the last message (step numbers are 1-based). */
  | { type: 'losses'; points: { step: number; loss: number }[]; step: number; stepsPerSecond: number }
  | { type: 'running'; running: boolean }
  | { type: 'samples'; step: number; seed: number; grid: Picture; frames: { t: number; picture: Picture }[] }
  | { type: 'checkpoint'; step: number; name: string; bytes: ArrayBuffer }
  | { type: 'scores'; scores: DemoScores }
  | { type: 'census'; buffers: number; bytes: number; session: boolean }
  | { type: 'error'; message: string; hint: string };
