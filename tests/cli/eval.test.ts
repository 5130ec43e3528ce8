// `softdiff eval`, `softdiff classifier` and the trainer's scores from the command line: usage errors,
// real digits scored directly and through a grid PNG and a folder (the same images give the same
// scores), a tiny MNIST-sized checkpoint sampled and scored, --eval-every and the final scores in the
// training log. A classifier with initial (untrained) weights keeps the file independent of the
// shipped asset, whose own check is the last test.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { encodePng } from '../../src/node/png.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { encodeClassifierWeights } from '../../src/eval/classifier-weights.ts';
import { ClassifierGraph, MNIST_CLASSIFIER } from '../../src/eval/classifier.ts';
import { initialParameters } from '../../src/nn/plan.ts';
import { readJsonl } from '../../src/node/jsonl-log.ts';
import { readClassifierWeights, shippedClassifierPath } from '../../src/node/classifier-asset.ts';
import { createNodeGpu } from '../../src/node/device.ts';
import { loadImageFolder, loadMnist } from '../../src/node/datasets.ts';
import { FeatureExtractor } from '../../src/eval/features.ts';
import { referenceStatistics } from '../../src/eval/evaluator.ts';
import { referenceImages } from '../../src/eval/reference.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { MAX_IMAGE_FILE_BYTES } from '../../src/base/limits.ts';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

let dir = '';
let classifier = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'softdiff-eval-'));
  classifier = join(dir, 'classifier.safetensors');
  const flat = initialParameters(new ClassifierGraph(MNIST_CLASSIFIER, { batch: 1 }).graph, 1);
  const weights = { config: MNIST_CLASSIFIER, flat, info: { dataset: 'mnist', heldOutFraction: 0.2, splitSeed: 0, heldOutAccuracy: 0 } };
  // With its reference statistics, as `softdiff classifier` writes them: each command then skips the
  // pass over the 2,000 reference digits.
  const data = loadMnist();
  const gpu = await createNodeGpu();
  const fx = await FeatureExtractor.create(gpu, weights);
  const reference = await referenceStatistics(gpu, fx, referenceImages(data, data.labels, weights.info));
  fx.destroy();
  gpu.destroy();
  writeFileSync(classifier, encodeClassifierWeights({ ...weights, reference }));
}, 600_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const scores = (out: string) => {
  const { seconds: _s, ...rest } = JSON.parse(out) as Record<string, unknown>;
  return rest;
};

describe('softdiff eval usage', () => {
  test.each([
    [['eval'], 1, /needs exactly one of --checkpoint, --images, --real \(got none\)/],
    [['eval', '--real', '--images', 'x'], 1, /got --images, --real/],
    [['eval', '--real', '--distort', 'fog:3'], 2, /Unknown distortion 'fog:3'/],
    [['eval', '--real', '--count', '0'], 2, /expected a positive integer/],
    [['eval', '--real', '--count', '200000'], 1, /above the limit of 100000/],
    [['eval', '--images', '/nonexistent/folder', '--classifier', 'CLASSIFIER'], 1, /Cannot read --images \/nonexistent\/folder/],
    [['eval', '--real', '--classifier', '/nonexistent.safetensors'], 1, /Cannot read the classifier weights/],
  ] as const)('%j', async (argv, code, message) => {
    const r = await cli(...argv.map((a) => (a === 'CLASSIFIER' ? classifier : a)));
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
  });
});

describe('softdiff eval --images refuses bad input, naming the flag', () => {
  /** A grid of two 32 px cells with 2 px padding (70x36), as softdiff writes them. */
  const grid2 = (ink: number) => {
    const data = new Uint8Array(70 * 36);
    for (let y = 2; y < 34; y++) for (const x0 of [2, 36]) for (let x = x0; x < x0 + 32; x++) if ((x + y) % 3 === 0) data[y * 70 + x] = ink;
    return encodePng({ width: 70, height: 36, channels: 1, data });
  };
  const cases: [string, (path: string) => void, RegExp][] = [
    ['not-an-image.png', (p) => writeFileSync(p, 'not a png'), /--images .*not-an-image\.png is neither a PNG nor a JPEG file/],
    // A PNG header claiming 100,000 x 100,000 pixels: refused before any pixel memory is allocated.
    ['huge.png', (p) => writeFileSync(p, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.from('IHDR'), Buffer.from([0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 0, 0, 0, 0, 0, 0, 0, 0])])), /--images .*huge\.png claims 100000x100000 pixels/],
    // A sparse file above the read limit: refused from its size, before it is read.
    ['too-big.png', (p) => { writeFileSync(p, ''); truncateSync(p, MAX_IMAGE_FILE_BYTES + 1); }, /--images file .*too-big\.png has \d+ bytes, more than the \d+ softdiff reads/],
    ['ten-pixels.png', (p) => writeFileSync(p, encodePng({ width: 10, height: 10, channels: 1, data: new Uint8Array(100) })), /--images .*ten-pixels\.png \(10x10\) is not a grid of 32x32 images/],
    ['blank-grid.png', (p) => writeFileSync(p, grid2(0)), /--images .*blank-grid\.png holds 0 images \(blank grid cells are skipped\); the scores need at least 4/],
    ['two-cells.png', (p) => writeFileSync(p, grid2(200)), /--images .*two-cells\.png holds 2 images \(blank grid cells are skipped\); the scores need at least 4/],
    ['empty-folder', (p) => mkdirSync(p), /--images: The folder .*empty-folder has no readable PNG or JPEG images/],
    ['folder-of-two', (p) => { mkdirSync(p); for (const k of [1, 2]) writeFileSync(join(p, `${k}.png`), encodePng({ width: 32, height: 32, channels: 1, data: new Uint8Array(1024).fill(40 * k) })); }, /--images .*folder-of-two holds 2 images; the scores need at least 4/],
  ];
  test('a folder is bounded while it is listed, before any image is read (eval passes maxFiles: MAX_EVAL_IMAGES)', async () => {
    const folder = join(dir, 'bad', 'five-files');
    mkdirSync(folder, { recursive: true });
    // Not even PNGs: the count is refused before any file is opened.
    for (let i = 0; i < 5; i++) writeFileSync(join(folder, `${i}.png`), 'x');
    await expect(loadImageFolder(folder, { size: 32, channels: 1, maxFiles: 4 })).rejects.toThrow(/five-files holds more than 4 image files/);
    await expect(loadImageFolder(folder, { size: 32, channels: 1, maxFiles: 5, onWarning: () => {} })).rejects.toThrow(/no readable PNG or JPEG images \(5 candidate files/);
  });
  test.each(cases)('%s', async (name, make, message) => {
    const path = join(dir, 'bad', name);
    mkdirSync(join(dir, 'bad'), { recursive: true });
    make(path);
    const r = await cli('eval', '--images', path, '--classifier', classifier);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});

describe('softdiff eval', () => {
  test('real digits: one JSON line; the same digits through a grid PNG and a folder score the same', async () => {
    const grid = join(dir, 'real.png');
    const r = await cli('eval', '--real', '--count', '40', '--seed', '3', '--classifier', classifier, '--grid', grid, '--progress', 'off');
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    const s = scores(r.out);
    for (const k of ['fd', 'precision', 'recall', 'classEntropy', 'confidence', 'dctFd']) expect(Number.isFinite(s[k]), k).toBe(true);
    expect(s).toMatchObject({ count: 40, real: 'mnist training split', reference: 'mnist held-out (2000)' });
    expect((s.classHistogram as number[]).reduce((a, b) => a + b, 0)).toBe(40);
    // MNIST pixels are bytes, so the PNG holds them exactly.
    const g = await cli('eval', '--images', grid, '--classifier', classifier);
    expect(g.code, g.err).toBe(0);
    const { images: _i, ...fromGrid } = scores(g.out);
    const { real: _r, seed: _s, ...direct } = s;
    expect(fromGrid).toEqual(direct);
    // --prefix-counts: the first n of the same images, scored on the way.
    const p = await cli('eval', '--real', '--count', '60', '--seed', '3', '--prefix-counts', '40', '--classifier', classifier);
    const { seed: _p, real: _q, ...prefix40 } = (scores(p.out).prefixes as Record<string, Record<string, unknown>>)['40']!;
    expect(prefix40).toEqual(Object.fromEntries(Object.entries(direct).filter(([k]) => !['reference', 'classifier', 'adapter'].includes(k))));
    const bad = await cli('eval', '--real', '--count', '60', '--prefix-counts', '60', '--classifier', classifier);
    expect(bad.err).toMatch(/--prefix-counts 60: each must be below the 60 images scored/);
    const d = await cli('eval', '--real', '--count', '40', '--seed', '3', '--distort', 'blur:2', '--classifier', classifier);
    expect(scores(d.out).distort).toBe('blur:2');
    expect(scores(d.out).fd).toBeGreaterThan(s.fd as number);
  });

  test('a checkpoint of a tiny MNIST model: sampled in batches and scored; trainer scores go into the log', async () => {
    const out = join(dir, 'run');
    const model = JSON.stringify({ baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 });
    const t = await cli('train', '--model', model, '--batch', '2', '--steps', '2', '--sample-every', '0', '--sampler', 'momentum', '--sample-steps', '2', '--eval-every', '2', '--eval-count', '6', '--final-eval', '6', '--classifier', classifier, '--progress', 'off', '--out', out);
    expect(t.code, t.err).toBe(0);
    expect(t.err).toMatch(/scores of 6 samples \(EMA weights, momentum sampler, 2 steps; docs\/quality\.md\): Fréchet distance [\d.]+ \(real digits at 6: [\d.]+\)/);
    const log = readJsonl(join(out, 'loss.jsonl'));
    const evals = log.filter((x) => 'eval' in x);
    expect(evals.map((x) => x.step)).toEqual([2]);
    expect((evals[0]!.eval as { count: number }).count).toBe(6);
    expect(log.filter((x) => 'final' in x)).toHaveLength(1);

    const ckpt = join(out, 'checkpoint.safetensors');
    const e = await cli('eval', '--checkpoint', ckpt, '--steps', '2', '--count', '5', '--batch', '2', '--sampler', 'naive', '--classifier', classifier, '--progress', 'off');
    expect(e.code, e.err).toBe(0);
    // three batches of 2: nfe is per sample (2 steps), not summed over the batches
    expect(scores(e.out)).toMatchObject({ checkpoint: ckpt, step: 2, sampler: 'naive', steps: 2, count: 5, batch: 2, seed: 0, weights: 'ema', nfe: 2 });
    const distorted = await cli('eval', '--checkpoint', ckpt, '--distort', 'blur:1', '--classifier', classifier);
    expect(distorted.code).toBe(1);
    expect(distorted.err).toMatch(/--distort applies to --real or --images/);
  });

  test('another reference (a data set or folder): the DCT distance only, lower for like images', async () => {
    const folder = join(dir, 'blob-like');
    mkdirSync(folder);
    for (let i = 0; i < 6; i++) writeFileSync(join(folder, `b${i}.png`), encodePng({ width: 8, height: 8, channels: 3, data: new Uint8Array(8 * 8 * 3).map((_, k) => (k * (i + 5) * 37) % 256) }));
    const r = await cli('eval', '--images', folder, '--reference', 'blobs', '--size', '8');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out) as { count: number; dctFd: number; reference: string; fd?: number };
    expect(s).toMatchObject({ count: 6, reference: 'blobs (1024)' });
    expect(s.fd).toBeUndefined();
    const blurred = await cli('eval', '--images', folder, '--reference', 'blobs', '--size', '8', '--distort', 'blur:1');
    expect(JSON.parse(blurred.out).dctFd).not.toBe(s.dctFd);
    // --real with another reference: its own images, the floor (lower than the foreign images)
    const real = await cli('eval', '--real', '--reference', 'blobs', '--size', '8', '--count', '64');
    expect(real.code, real.err).toBe(0);
    const rs = JSON.parse(real.out) as { count: number; dctFd: number; real: string };
    expect(rs).toMatchObject({ count: 64, real: expect.stringMatching(/blobs: 64 of the reference's own images/) });
    expect(rs.dctFd).toBeLessThan(0.25 * s.dctFd);
    expect((await cli('eval', '--real', '--reference', 'blobs', '--size', '8', '--count', '5000')).err).toMatch(/--count 5000: blobs has 1024 images/);
  });

  test('--eval-every on a data set other than MNIST is refused before training', async () => {
    const r = await cli('train', '--data', 'blobs', '--size', '8', '--length', '8', '--steps', '1', '--eval-every', '1', '--progress', 'off', '--out', join(dir, 'blobs'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--eval-every scores MNIST runs only/);
  });
});

describe('the shipped classifier', () => {
  test('its stored reference statistics are those of the held-out MNIST digits', async () => {
    const weights = await readClassifierWeights();
    expect(weights.info.heldOutAccuracy).toBeGreaterThan(0.98);
    expect(weights.reference?.count).toBe(2000);
    const data = loadMnist();
    const gpu = await createNodeGpu();
    const fx = await FeatureExtractor.create(gpu, weights);
    const now = await referenceStatistics(gpu, fx, referenceImages(data, data.labels, weights.info));
    fx.destroy();
    gpu.destroy();
    // Recomputed on this adapter: float32 rounding only.
    expectClose(now.features, weights.reference!.features, { atol: 1e-4, rtol: 1e-3, label: 'reference features' });
    expectClose(now.dctMean, weights.reference!.dctMean, { atol: 1e-6, rtol: 1e-5, label: 'DCT mean' });
    expectClose(now.dctVariance, weights.reference!.dctVariance, { atol: 1e-6, rtol: 1e-4, label: 'DCT variance' });
  });

  test('is found next to the package and scores real digits near the floor', async () => {
    const path = shippedClassifierPath();
    expect(existsSync(path)).toBe(true);
    const r = await cli('eval', '--real', '--count', '300');
    expect(r.code, r.err).toBe(0);
    const s = scores(r.out);
    expect(s.classifier).toBe(path);
    expect(s.classEntropy as number).toBeGreaterThan(0.97);
    expect(s.confidence as number).toBeGreaterThan(0.9);
  });
});
