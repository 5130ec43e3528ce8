// A training checkpoint's metadata is checked field by field before anything is sized from it
// (issue 12, items 2 and 7): out-of-range sizes (dataset.length 1e9, sampleSteps 1e9), wrong types
// (hostRng "abc"), absurd steps (1e300), a preset name where the full U-Net config belongs, unknown
// keys. Each refusal is a CheckpointError that names the file and the field. No GPU needed.
import { describe, expect, test } from 'vitest';
import { encodeSafetensors } from '../../src/io/safetensors.ts';
import { encodeCheckpointMetadata } from '../../src/io/checkpoint-metadata.ts';
import { decodeCheckpointFile } from '../../src/train/checkpoint-state.ts';
import { resolveOptions } from '../../src/train/options.ts';
import { CheckpointError } from '../../src/gpu/errors.ts';
import { TINY } from './tiny.ts';

type Fields = Record<string, unknown> & { options: Record<string, unknown> & { model: Record<string, unknown> } };

function validFields(): Fields {
  const options = resolveOptions(TINY, { channels: 1, size: 8 });
  return JSON.parse(
    JSON.stringify({
      kind: 'training-state',
      options,
      step: 4,
      dataset: { name: 'blobs', channels: 1, size: 8, length: 12 },
      hostRng: 12345,
      streamer: { seed: 99, epoch: 0, cursor: 8 },
      gpuRng: { seed: 7, counter: 4 },
      adamStep: 4,
      lastLoss: 0.25,
    }),
  ) as Fields;
}

const fileOf = (fields: Record<string, unknown>) => encodeSafetensors({ x: { shape: [1], data: new Float32Array(1) } }, encodeCheckpointMetadata(fields));

test('the valid fields decode, with the options as resolved', () => {
  const d = decodeCheckpointFile(fileOf(validFields()), 'ok.safetensors');
  expect(d.fields.step).toBe(4);
  expect(d.fields.options.model.baseChannels).toBe(4);
});

describe('each bad field is refused, naming it', () => {
  const cases: [string, (f: Fields) => void, RegExp][] = [
    ['hostRng "abc"', (f) => void (f.hostRng = 'abc'), /metadata hostRng is "abc"; it must be an integer in \[0, 4294967295\]/],
    ['step 1e300', (f) => void (f.step = 1e300), /metadata step is 1e\+300; it must be an integer/],
    ['step -1', (f) => void (f.step = -1), /metadata step is -1/],
    ['adamStep 0.5', (f) => void (f.adamStep = 0.5), /metadata adamStep is 0.5/],
    ['dataset.length 1e9', (f) => void ((f.dataset as Record<string, unknown>).length = 1e9), /metadata dataset.length is 1000000000; it must be an integer in \[1, 1000000\]/],
    ['dataset.size 100000', (f) => void ((f.dataset as Record<string, unknown>).size = 100000), /metadata dataset.size is 100000; it must be an integer in \[1, 512\]/],
    ['dataset.channels 2', (f) => void ((f.dataset as Record<string, unknown>).channels = 2), /metadata dataset.channels is 2; it must be 1 or 3/],
    ['streamer.cursor past the data set', (f) => void ((f.streamer as Record<string, unknown>).cursor = 12), /metadata streamer is .*cursor below the 12 images/],
    ['gpuRng.seed -1', (f) => void ((f.gpuRng as Record<string, unknown>).seed = -1), /metadata gpuRng/],
    ['lastLoss "x"', (f) => void (f.lastLoss = 'x'), /metadata lastLoss is "x"/],
    ['options.sampleSteps 1e9', (f) => void (f.options.sampleSteps = 1e9), /stored options are invalid: Invalid training option sampleSteps: 1000000000/],
    ['options.sampleCount 1e6', (f) => void (f.options.sampleCount = 1e6), /Invalid training option sampleCount: 1000000/],
    ['options.batch 1e9', (f) => void (f.options.batch = 1e9), /Invalid training option batch: 1000000000/],
    ['options.priorBank 1e9', (f) => void (f.options.priorBank = 1e9), /Invalid training option priorBank/],
    ['options.clipNorm "1"', (f) => void (f.options.clipNorm = '1'), /Invalid training option clipNorm: "1"/],
    ['options.model.baseChannels 1e9', (f) => void (f.options.model.baseChannels = 1e9), /baseChannels must be an integer in \[1, 4096\]/],
    ['options.model.numResBlocks 1e9', (f) => void (f.options.model.numResBlocks = 1e9), /numResBlocks must be an integer in \[1, 16\]/],
    ['options.model.channelMults of 1000 levels', (f) => void (f.options.model.channelMults = Array(1000).fill(1)), /channelMults must be a list of 1..8 integers/],
    ['options.model.frobnicate', (f) => void (f.options.model.frobnicate = 1), /unknown U-Net setting 'frobnicate'/],
    ['options.model a preset name', (f) => void ((f.options as Record<string, unknown>).model = 'mnist'), /name the U-Net preset 'mnist' instead of its full configuration/],
    ['options.model for another image size', (f) => void (f.options.model.imageSize = 16), /model for 1x16 images, but the data set is 1x8/],
    ['options.corruption blur height 1e9', (f) => void ((f.options.corruption as Record<string, unknown>).height = 1e9), /corruption.height: 1000000000/],
    ['an unknown option', (f) => void (f.options.modelOverrides = { baseChannels: 1e9 }), /baseChannels must be an integer|unknown option 'modelOverrides'/],
    ['options missing', (f) => void delete (f as Record<string, unknown>).options, /lacks metadata options/],
  ];
  test.each(cases)('%s', (_, mutate, message) => {
    const f = validFields();
    mutate(f);
    let error: unknown;
    try {
      decodeCheckpointFile(fileOf(f), 'bad.safetensors');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(/^bad\.safetensors/);
    expect((error as Error).message).toMatch(message);
  });
});
