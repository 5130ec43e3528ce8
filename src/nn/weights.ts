// U-Net weights in and out as safetensors, one F32 tensor per parameter, PyTorch names and layouts
// (docs/unet.md lists them: conv weight [out, in, kh, kw], linear weight [out, in], GroupNorm
// weight/bias [C]). The metadata carries the config (JSON) so a file says what network it fits.
import { CheckpointError } from '../gpu/errors.ts';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from '../io/safetensors.ts';
import type { UNetConfig } from './config.ts';
import type { Graph } from './plan.ts';
import type { UNet } from './unet.ts';
import type { Tensor } from '../gpu/tensor.ts';

export const WEIGHTS_FORMAT = 'softdiff-unet/1';

/** Encode a flat parameter array laid out by `graph` as safetensors bytes. */
export function encodeUNetWeights(graph: Graph, config: UNetConfig, flat: Float32Array, metadata: Record<string, string> = {}): Uint8Array {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, e] of graph.params.entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape: e.shape, data: flat.slice(e.offset, e.offset + n) });
  }
  return encodeSafetensors(tensors, { format: WEIGHTS_FORMAT, config: JSON.stringify(config), ...metadata });
}

/** Decode safetensors bytes into a flat parameter array laid out by `graph`; every parameter must be present with its shape. */
export function decodeUNetWeights(graph: Graph, bytes: Uint8Array, source = 'weights'): { flat: Float32Array; metadata: Record<string, string> } {
  const expected: Record<string, readonly number[]> = {};
  for (const [name, e] of graph.params.entries) expected[name] = e.shape;
  const file = decodeSafetensors(bytes, { expected, strict: true, source });
  const flat = new Float32Array(graph.params.size);
  for (const [name, e] of graph.params.entries) {
    const t = file.tensors.get(name);
    if (!t) throw new CheckpointError(`${source}: tensor ${name} is missing.`, 'The file was saved from a different network configuration.');
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(`${source}: tensor ${name} is ${t.dtype}, expected F32.`);
    flat.set(t.data, e.offset);
  }
  return { flat, metadata: file.metadata };
}

/** The network's weights, or another tensor in its flat layout (the optimizer's EMA copy), as safetensors bytes. */
export async function saveUNetWeights(net: UNet, ema?: Tensor, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  return encodeUNetWeights(net.plan.graph, net.config, await net.readFlat(ema ?? 'params'), { weights: ema ? 'ema' : 'params', ...metadata });
}

/** Load safetensors weights into the network's parameters (create or reset the optimizer afterwards: its EMA starts from them). */
export function loadUNetWeights(net: UNet, bytes: Uint8Array, source = 'weights'): Record<string, string> {
  const { flat, metadata } = decodeUNetWeights(net.plan.graph, bytes, source);
  net.setParameters(flat);
  return metadata;
}
