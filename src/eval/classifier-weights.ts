// Classifier weights as safetensors: one F32 tensor per parameter (PyTorch names and layouts, as the
// U-Net's), the configuration and how the weights were made (data set, split, accuracy, the command
// that reproduces them) in the metadata. Browser-safe: bytes in, bytes out.
import { CheckpointError } from '../gpu/errors.ts';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from '../io/safetensors.ts';
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
  [key: string]: unknown;
}

export interface ClassifierWeights {
  config: ClassifierConfig;
  info: ClassifierInfo;
  /** Parameters in the network's flat layout (padding included). */
  flat: Float32Array;
}

export function encodeClassifierWeights(w: ClassifierWeights): Uint8Array {
  const graph = new ClassifierGraph(w.config, { batch: 1 }).graph;
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, e] of graph.params.entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape: e.shape, data: w.flat.slice(e.offset, e.offset + n) });
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
  return { config, info, flat };
}
