// Classifier weights as safetensors: one F32 tensor per parameter (PyTorch names and layouts, as the
// U-Net's), the configuration and how the weights were made (data set, split, accuracy, the command
// that reproduces them) in the metadata, and optionally the reference set's statistics computed with
// these weights: its features (`reference.features` [M, F]) and the mean and variance of its DCT
// coefficients (`reference.dct_mean`, `reference.dct_variance` [C, S, S], F64). With them an evaluator
// needs neither the reference images nor a pass over them (the browser demo scores without
// downloading MNIST). Browser-safe: bytes in, bytes out.
import { CheckpointError } from '../gpu/errors.ts';
import { decodeSafetensors, encodeSafetensors, type SafeTensor, type TensorToWrite } from '../io/safetensors.ts';
import { ClassifierGraph, validateClassifierConfig, type ClassifierConfig } from './classifier.ts';

export const CLASSIFIER_FORMAT = 'softdiff-classifier/1';

/** What the metadata says about the weights, beyond the configuration. */
export interface ClassifierInfo {
  /** The data set the classifier was trained on ('mnist'). */
  dataset: string;
  /** The held-out split: fraction of each class and its seed (see stratifiedSplit). */
  heldOutFraction: number;
  splitSeed: number;
  /** Accuracy on the held-out images. */
  heldOutAccuracy: number;
  trainAccuracy?: number;
  /** How to make the same file again. */
  command?: string;
  /** Fréchet distance of `n` real training-split digits (seed 0) for a few counts n: the floor. */
  realFd?: Record<string, number>;
  [key: string]: unknown;
}

/** The reference set as the metrics see it, computed with the weights it is stored with. */
export interface ReferenceStatistics {
  /** [count, F] classifier features. */
  features: Float32Array;
  count: number;
  /** [C * S * S] mean and (population) variance of each DCT coefficient. */
  dctMean: Float64Array;
  dctVariance: Float64Array;
}

export interface ClassifierWeights {
  config: ClassifierConfig;
  info: ClassifierInfo;
  /** Parameters in the network's flat layout (padding included). */
  flat: Float32Array;
  reference?: ReferenceStatistics;
}

const REF = { features: 'reference.features', dctMean: 'reference.dct_mean', dctVariance: 'reference.dct_variance' } as const;

export function encodeClassifierWeights(w: ClassifierWeights): Uint8Array {
  const graph = new ClassifierGraph(w.config, { batch: 1 }).graph;
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, e] of graph.params.entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape: e.shape, data: w.flat.slice(e.offset, e.offset + n) });
  }
  const r = w.reference;
  if (r) {
    const c = w.config;
    const f = c.widths[c.widths.length - 1]!;
    if (r.features.length !== r.count * f || r.dctMean.length !== c.inChannels * c.imageSize ** 2 || r.dctVariance.length !== r.dctMean.length)
      throw new CheckpointError('Reference statistics do not match the classifier configuration.');
    tensors.set(REF.features, { shape: [r.count, f], data: r.features });
    tensors.set(REF.dctMean, { shape: [c.inChannels, c.imageSize, c.imageSize], data: r.dctMean });
    tensors.set(REF.dctVariance, { shape: [c.inChannels, c.imageSize, c.imageSize], data: r.dctVariance });
  }
  return encodeSafetensors(tensors, { format: CLASSIFIER_FORMAT, config: JSON.stringify(w.config), info: JSON.stringify(w.info) });
}

/** Decode and validate: format, configuration, every parameter present with its shape. */
export function decodeClassifierWeights(bytes: Uint8Array, source = 'classifier weights'): ClassifierWeights {
  const file = decodeSafetensors(bytes, { source });
  const hint = 'Use a file written by `softdiff classifier` (the package ships assets/mnist-classifier.safetensors).';
  if (file.metadata.format !== CLASSIFIER_FORMAT) throw new CheckpointError(`${source} is not classifier weights (format ${JSON.stringify(file.metadata.format ?? null)}, expected ${CLASSIFIER_FORMAT}).`, hint);
  let config: ClassifierConfig;
  let info: ClassifierInfo;
  try {
    config = JSON.parse(file.metadata.config ?? '') as ClassifierConfig;
    info = JSON.parse(file.metadata.info ?? '{}') as ClassifierInfo;
  } catch {
    throw new CheckpointError(`${source}: the configuration in the metadata is not valid JSON.`, hint);
  }
  try {
    validateClassifierConfig(config);
  } catch (e) {
    throw new CheckpointError(`${source}: ${(e as Error).message}`, hint);
  }
  const graph = new ClassifierGraph(config, { batch: 1 }).graph;
  const flat = new Float32Array(graph.params.size);
  for (const [name, e] of graph.params.entries) {
    const t = file.tensors.get(name);
    if (!t) throw new CheckpointError(`${source}: tensor ${name} is missing.`, hint);
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) throw new CheckpointError(`${source}: tensor ${name} is ${t.dtype}, expected F32.`, hint);
    if (t.shape.join('x') !== e.shape.join('x')) throw new CheckpointError(`${source}: tensor ${name} has shape [${t.shape}], expected [${e.shape}].`, hint);
    for (const v of t.data) if (!Number.isFinite(v)) throw new CheckpointError(`${source}: tensor ${name} holds a non-finite value.`, hint);
    flat.set(t.data, e.offset);
  }
  return { config, info, flat, reference: decodeReference(file.tensors, config, source, hint) };
}

function decodeReference(tensors: Map<string, SafeTensor>, c: ClassifierConfig, source: string, hint: string): ReferenceStatistics | undefined {
  const features = tensors.get(REF.features);
  const mean = tensors.get(REF.dctMean);
  const variance = tensors.get(REF.dctVariance);
  if (!features && !mean && !variance) return undefined;
  const f = c.widths[c.widths.length - 1]!;
  const plane = [c.inChannels, c.imageSize, c.imageSize].join('x');
  const bad = (what: string) => new CheckpointError(`${source}: ${what}.`, hint);
  if (!features || !mean || !variance) throw bad('the reference statistics are incomplete (reference.features, reference.dct_mean and reference.dct_variance go together)');
  if (features.dtype !== 'F32' || features.shape.length !== 2 || features.shape[1] !== f || features.shape[0]! < 2) throw bad(`reference.features must be F32 [count >= 2, ${f}], got ${features.dtype} [${features.shape}]`);
  for (const [name, t] of [[REF.dctMean, mean], [REF.dctVariance, variance]] as const)
    if (t.dtype !== 'F64' || t.shape.join('x') !== plane) throw bad(`${name} must be F64 [${plane.replace(/x/g, ', ')}], got ${t.dtype} [${t.shape}]`);
  for (const t of [features, mean, variance]) for (const v of t.data as Float32Array | Float64Array) if (!Number.isFinite(v)) throw bad('the reference statistics hold a non-finite value');
  return { features: features.data as Float32Array, count: features.shape[0]!, dctMean: mean.data as Float64Array, dctVariance: variance.data as Float64Array };
}
