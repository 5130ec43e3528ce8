// The feature classifier as a whole: forward (features, logits, probabilities) against the float64
// reference network, and the gradient of its training loss (mean softmax cross-entropy) against
// central finite differences of the reference; the weights file round trip and its validation.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, relError } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { Classifier, ClassifierGraph, MNIST_CLASSIFIER, type ClassifierConfig } from '../../src/eval/classifier.ts';
import { decodeClassifierWeights, encodeClassifierWeights } from '../../src/eval/classifier-weights.ts';
import { softmaxCrossEntropy } from '../../src/kernels/softmax-xent.ts';
import { initialParameters, type Graph } from '../../src/nn/plan.ts';
import { CheckpointError, ValueError } from '../../src/gpu/errors.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';

const decodeSafetensorsTensors = (bytes: Uint8Array) => decodeSafetensors(bytes).tensors;
import { classifierRef } from '../reference/classifier.ts';
import { crossEntropyRef, softmaxRef } from '../reference/softmax-xent.ts';

const ctx = useGpu();

/** Two blocks (one strided), groups 2, three classes: every layer kind, small enough for float64 finite differences. */
const tiny: ClassifierConfig = { inChannels: 1, imageSize: 8, classes: 3, widths: [4, 8], strides: [1, 2], groups: 2 };
const N = 3;

function lookup(graph: Graph, flat: ArrayLike<number>) {
  return (name: string) => {
    const e = graph.params.entries.get(name);
    if (!e) throw new Error(`no parameter ${name}`);
    const n = e.shape.reduce((a, b) => a * b, 1);
    return Float64Array.from({ length: n }, (_, i) => flat[e.offset + i]!);
  };
}

/** Initial weights with GroupNorm scales and shifts moved away from 1 and 0. */
function randomParameters(graph: Graph, seed: number): Float32Array {
  const flat = initialParameters(graph, seed);
  const noise = randn(flat.length, seed + 1);
  for (const [name, e] of graph.params.entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    for (let i = e.offset; i < e.offset + n; i++) {
      if (/norm\.weight$/.test(name)) flat[i] = 1 + 0.2 * noise[i]!;
      else if (/norm\.bias$/.test(name)) flat[i] = 0.1 * noise[i]!;
    }
  }
  return flat;
}

describe('classifier plan (no GPU)', () => {
  test('the MNIST classifier: 98,154 parameters, 64 features', () => {
    const g = new ClassifierGraph(MNIST_CLASSIFIER, { batch: 2 });
    expect(g.graph.parameterCount).toBe(98_154);
    expect(g.featureDim).toBe(64);
    expect(g.graph.shape('features')).toEqual([2, 64]);
    expect(g.graph.shape('logits')).toEqual([2, 10]);
  });

  test('invalid configurations name the setting', () => {
    expect(() => new ClassifierGraph({ ...tiny, groups: 3 }, { batch: 1 })).toThrow(/width 4 \(a multiple of groups 3/);
    expect(() => new ClassifierGraph({ ...tiny, strides: [1] }, { batch: 1 })).toThrow(/same length/);
    expect(() => new ClassifierGraph({ ...tiny, strides: [1, 3 as 2] }, { batch: 1 })).toThrow(/stride 3/);
    expect(() => new ClassifierGraph(tiny, { batch: 0 })).toThrow(ValueError);
  });
});

describe('classifier on the GPU against the float64 reference', () => {
  test('forward matches; loss gradients match central finite differences', async () => {
    const { gpu } = ctx;
    const net = await Classifier.create(gpu, tiny, { batch: N, training: true, seed: 4 });
    const graph = net.plan.graph;
    const flat = randomParameters(graph, 13);
    net.setParameters(flat);
    const x64 = Float64Array.from(Float32Array.from(randn(N * 64, 17).map((v) => 0.5 + 0.3 * v)));
    const labels = Uint32Array.from([2, 0, 1]);
    gpu.write(net.x, Float32Array.from(x64));
    const scope = gpu.scope('test');
    const lab = scope.upload(labels, [N]);
    const rows = scope.tensor([N, 2]);
    const out = scope.tensor([2]);
    const probsTrain = scope.tensor([N, 3]);
    gpu
      .recorder()
      .run(net.forwardDispatches)
      .run(await softmaxCrossEntropy(scope, { logits: net.logits, labels: lab, probs: probsTrain, dLogits: net.dLogits, rows, out }, { n: N, k: 3 }))
      .run(net.backwardDispatches)
      .submit();
    const [features, logits, probs, grads, lossAcc] = [await gpu.read(net.features), await gpu.read(net.logits), await gpu.read(net.probs), await net.readFlat(net.flatGrads), await gpu.read(out)];

    const params64 = Float64Array.from(flat);
    const ref = () => classifierRef(tiny, lookup(graph, params64), x64, N);
    const r = ref();
    // float32 GPU vs float64 through 2 conv + GroupNorm blocks: a few ulps per layer.
    expectClose(features, r.features, { atol: 1e-5, rtol: 1e-4, label: 'features' });
    expectClose(logits, r.logits, { atol: 1e-5, rtol: 1e-4, label: 'logits' });
    expectClose(probs, softmaxRef(r.logits, N, 3), { atol: 1e-5, rtol: 1e-4, label: 'probs' });
    expectClose([lossAcc[0]!], [crossEntropyRef(r.logits, labels, N, 3).loss], { atol: 1e-5, rtol: 1e-4, label: 'loss' });

    const loss = () => crossEntropyRef(ref().logits, labels, N, 3).loss;
    const eps = 1e-5;
    const fd = (i: number) => {
      const o = params64[i]!;
      params64[i] = o + eps;
      const lp = loss();
      params64[i] = o - eps;
      const lm = loss();
      params64[i] = o;
      return (lp - lm) / (2 * eps);
    };
    // First, last and a middle element of every parameter tensor.
    const idx: number[] = [];
    for (const e of graph.params.entries.values()) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      idx.push(e.offset, e.offset + n - 1, e.offset + Math.floor(n / 2));
    }
    const fdParams = idx.map(fd);
    const gpuParams = idx.map((i) => grads[i]!);
    const scale = Math.max(...fdParams.map(Math.abs));
    // float32 backward through the whole network: elementwise 1e-3 of the largest gradient plus 2%.
    expectClose(gpuParams, fdParams, { atol: 1e-3 * scale, rtol: 2e-2, label: 'parameter gradients' });
    expect(relError(gpuParams, fdParams)).toBeLessThan(5e-3);
    net.destroy();
    scope.destroy();
  });

  test('a batch of one image gives the same features as the same image inside a larger batch', async () => {
    const { gpu } = ctx;
    const flat = randomParameters(new ClassifierGraph(tiny, { batch: 1 }).graph, 3);
    const one = await Classifier.create(gpu, tiny, { batch: 1, weights: flat });
    const four = await Classifier.create(gpu, tiny, { batch: 4, weights: flat });
    const x = Float32Array.from(randn(4 * 64, 5));
    gpu.write(one.x, x.subarray(128, 192));
    gpu.write(four.x, x);
    gpu.recorder().run(one.forwardDispatches).run(four.forwardDispatches).submit();
    expectClose(await gpu.read(one.features), (await gpu.read(four.features)).subarray(16, 24), { atol: 1e-6, rtol: 1e-5 });
    one.destroy();
    four.destroy();
  });
});

describe('classifier weights file', () => {
  test('round trip with configuration and info; bad files are refused', () => {
    const graph = new ClassifierGraph(tiny, { batch: 1 }).graph;
    const flat = randomParameters(graph, 8);
    const info = { dataset: 'mnist', heldOutFraction: 0.2, splitSeed: 0, heldOutAccuracy: 0.98 };
    const bytes = encodeClassifierWeights({ config: tiny, flat, info });
    const back = decodeClassifierWeights(bytes);
    expect(back.config).toEqual(tiny);
    expect(back.info).toEqual(info);
    expect(Array.from(back.flat)).toEqual(Array.from(flat));
    expect(back.reference).toBeUndefined();
    // With the reference statistics (features [M, 8], DCT moments [1, 8, 8] in float64).
    const reference = { features: Float32Array.from(randn(5 * 8, 1)), count: 5, dctMean: randn(64, 2), dctVariance: randn(64, 3).map(Math.abs) };
    const withRef = decodeClassifierWeights(encodeClassifierWeights({ config: tiny, flat, info, reference }));
    expect(withRef.reference).toEqual(reference);
    expect(() => encodeClassifierWeights({ config: tiny, flat, info, reference: { ...reference, count: 4 } })).toThrow(CheckpointError);
    const partial = encodeSafetensors(
      new Map([...decodeSafetensorsTensors(encodeClassifierWeights({ config: tiny, flat, info, reference }))].filter(([name]) => name !== 'reference.dct_mean')),
      { format: 'softdiff-classifier/1', config: JSON.stringify(tiny) },
    );
    expect(() => decodeClassifierWeights(partial)).toThrow(/reference statistics are incomplete/);
    // A U-Net file, garbage, a missing tensor.
    const wrongFormat = encodeSafetensors(new Map([['a', { shape: [1], data: new Float32Array(1) }]]), { format: 'softdiff-unet/1' });
    expect(() => decodeClassifierWeights(wrongFormat, 'x.safetensors')).toThrow(/x\.safetensors is not classifier weights/);
    expect(() => decodeClassifierWeights(new Uint8Array(20))).toThrow(CheckpointError);
    const missing = encodeSafetensors(new Map([['head.bias', { shape: [3], data: new Float32Array(3) }]]), { format: 'softdiff-classifier/1', config: JSON.stringify(tiny) });
    expect(() => decodeClassifierWeights(missing)).toThrow(/block\.0\.conv\.weight is missing/);
  });
});
