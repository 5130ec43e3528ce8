// Google's Noto emoji as a data set, cut from an emoji-data sprite sheet (the `emoji-datasource-google`
// package: img/google/sheets-clean/{16,20,32,64}.png and emoji.json). Each sheet cell is the image
// plus a 1-pixel transparent border, so image (sheet_x, sheet_y) starts at
// (sheet_x * (cell + 2) + 1, sheet_y * (cell + 2) + 1). Images are composited on white, RGB.
// Browser-safe: takes the decoded sheet and the parsed JSON.
import { ValueError } from '../gpu/errors.ts';
import { PackedDataset } from './dataset.ts';
import { cropRgba, rgbaToChw, type RgbaImage } from './image.ts';

/** The fields of an emoji.json entry that are used here. */
export interface EmojiEntry {
  short_name?: string;
  sheet_x: number;
  sheet_y: number;
  has_img_google?: boolean;
  skin_variations?: Record<string, { sheet_x: number; sheet_y: number; has_img_google?: boolean }>;
}

/** The sizes for which the package ships sheets. */
export const EMOJI_SHEET_SIZES = [16, 20, 32, 64] as const;

export interface EmojiOptions {
  /** Include the skin-tone variants (about twice as many images, many near-duplicates). Default false. */
  skinTones?: boolean;
}

export function emojiDataset(sheet: RgbaImage, entries: readonly EmojiEntry[], size: number, opts: EmojiOptions = {}): PackedDataset {
  if (!(EMOJI_SHEET_SIZES as readonly number[]).includes(size)) throw new ValueError(`Emoji come in sizes ${EMOJI_SHEET_SIZES.join(', ')}, not ${size}.`);
  const cell = size + 2;
  const cells: { x: number; y: number }[] = [];
  for (const e of entries) {
    if (e.has_img_google !== false) cells.push({ x: e.sheet_x, y: e.sheet_y });
    if (opts.skinTones && e.skin_variations)
      for (const v of Object.values(e.skin_variations)) if (v.has_img_google !== false) cells.push({ x: v.sheet_x, y: v.sheet_y });
  }
  const stride = 3 * size * size;
  const pixels = new Uint8Array(cells.length * stride);
  let n = 0;
  for (const { x, y } of cells) {
    const img = cropRgba(sheet, x * cell + 1, y * cell + 1, size, size);
    // The clean sheet leaves cells without a Google image transparent: skip those.
    if (!hasOpaquePixel(img)) continue;
    rgbaToChw(img, 3, pixels, n * stride);
    n++;
  }
  return new PackedDataset(`emoji-${size}`, 3, size, pixels.subarray(0, n * stride));
}

function hasOpaquePixel(img: RgbaImage): boolean {
  for (let p = 3; p < img.data.length; p += 4) if (img.data[p]! > 0) return true;
  return false;
}
