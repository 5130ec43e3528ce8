// `softdiff schedule`: the blur levels for a data set (SPEC section 5, the level scheduler): one GPU
// pass of data statistics, then the fewest-hop path with a bisected W2 budget. Prints (or writes) JSON
// {schedule, hops, eps, ...}; `softdiff train --blur-schedule <file>` uses it.
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { loadDataset } from '../node/datasets.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Dataset } from '../data/dataset.ts';
import { imageElements } from '../data/dataset.ts';
import { levelSchedule } from '../diffusion/level-scheduler.ts';
import { Schedule, defaultNoiseSchedule } from '../diffusion/schedule.ts';
import { ValueError } from '../gpu/errors.ts';
import { MAX_DATASET_IMAGES, MAX_IMAGE_SIZE, MAX_SCHEDULE_CANDIDATES, MAX_SCHEDULE_LEVELS, MAX_SCHEDULE_TABLE_BYTES } from '../base/limits.ts';
import { intIn, positiveNumber, usageError, type CliIo } from './args.ts';

interface ScheduleFlags {
  data: string;
  size?: number;
  length?: number;
  levels: number;
  candidates: number;
  sigmaMin?: number;
  sigmaMax?: number;
  noise: boolean;
  noiseMin?: number;
  noiseMax?: number;
  out?: string;
}

export function scheduleCommand(io: CliIo): Command {
  return new Command('schedule')
    .description('choose the blur levels sigmaB(t) for a data set (level scheduler) and print them as JSON')
    .option('--data <name|folder>', 'data set: mnist, emoji, blobs, stripes, or a folder of images', 'mnist')
    .option('--size <px>', 'image size', intIn(1, MAX_IMAGE_SIZE, 'the largest image size'))
    .option('--length <n>', 'images of a synthetic data set', intIn(1, MAX_DATASET_IMAGES, 'the largest data set'))
    .option('--levels <k>', 'number of levels K', intIn(2, MAX_SCHEDULE_LEVELS, 'the most levels'), 32)
    .option('--candidates <m>', 'number of candidate levels M', intIn(2, MAX_SCHEDULE_CANDIDATES, 'the most candidates'), 256)
    .option('--sigma-min <px>', 'smallest blur std in pixels (default 0.01)', positiveNumber)
    .option('--sigma-max <px>', 'largest blur std in pixels (default 0.36 * size)', positiveNumber)
    .option('--no-noise', 'ignore the noise schedule (s_i = 0) in the distances')
    .option('--noise-min <x>', 'noise std sigma(0) used in the distances (as `train --noise-min`; default 0.01)', positiveNumber)
    .option('--noise-max <x>', 'noise std sigma(1) used in the distances (as `train --noise-max`; default 0.1)', positiveNumber)
    .option('--out <file>', 'write the JSON here instead of printing it')
    .action(async (f: ScheduleFlags, cmd: Command) => {
      const size = f.size ?? 32;
      const tableBytes = f.candidates * size * size * 8;
      if (tableBytes > MAX_SCHEDULE_TABLE_BYTES)
        usageError(cmd, `--candidates ${f.candidates} at --size ${size} needs ${tableBytes} bytes of tables, more than ${MAX_SCHEDULE_TABLE_BYTES}; use fewer --candidates or a smaller --size.`);
      const dataset = await loadDataset(f.data, { size: f.size, length: f.length, onWarning: (m) => io.err(`warning: ${m}\n`) });
      const gpu = await createNodeGpu();
      try {
        const { report } = await levelSchedule(gpu, batches(gpu, dataset, 256), {
          levels: f.levels,
          candidates: f.candidates,
          sigmaBMin: f.sigmaMin,
          sigmaBMax: f.sigmaMax,
          noise: f.noise ? noiseFor(f) : undefined,
        });
        const text = `${JSON.stringify({ dataset: dataset.name, images: dataset.length, ...report }, null, 2)}\n`;
        if (f.out) {
          await writeFile(f.out, text);
          io.err(`softdiff schedule: ${report.schedule.values.length} levels for ${dataset.name} -> ${f.out}\n`);
        } else io.out(text);
      } finally {
        await gpu.done().catch(() => {});
        gpu.destroy();
        releaseNodeGpu();
      }
    });
}

/** The geometric noise schedule of the distances: the blur default with --noise-min / --noise-max applied. */
function noiseFor(f: ScheduleFlags): Schedule {
  const d = defaultNoiseSchedule('blur').toJSON();
  if (d.kind !== 'geometric') throw new ValueError('The default noise schedule is not geometric.');
  const min = f.noiseMin ?? d.min;
  const max = f.noiseMax ?? d.max;
  if (max < min) throw new ValueError(`--noise-max ${max} is below --noise-min ${min}.`, 'Pass --noise-max >= --noise-min.');
  return Schedule.geometric(min, max);
}

/** The whole data set in order, uploaded `batch` images at a time (each tensor released after use). */
async function* batches(gpu: Gpu, ds: Dataset, batch: number): AsyncGenerator<Tensor> {
  const per = imageElements(ds);
  for (let start = 0; start < ds.length; start += batch) {
    const n = Math.min(batch, ds.length - start);
    const host = new Float32Array(n * per);
    for (let i = 0; i < n; i++) {
      if (ds.copyInto) ds.copyInto(start + i, host, i * per);
      else host.set(ds.get(start + i), i * per);
    }
    const t = gpu.upload(host, [n, ds.channels, ds.size, ds.size], 'schedule:batch');
    yield t;
    gpu.release(t);
  }
}
