// Cutting a grid picture (as `softdiff sample` and the trainer write them: cells of S x S pixels with
// `padding` pixels of background between and around them, src/io/grid.ts) back into images, so that
// a grid can be scored like a folder. Cells that are all background (the unused end of the last row)
// are skipped. Browser-safe.
import { ValueError } from '../gpu/errors.ts';
import { cropRgba, rgbaToChw, type RgbaImage } from '../data/image.ts';

export interface GridLayout {
  columns: number;
  rows: number;
}

/** The layout of a grid of `cell` pixel images with `padding`, or null when the size does not fit one. */
export function gridLayout(width: number, height: number, cell: number, padding = 2): GridLayout | null {
  const columns = (width - padding) / (cell + padding);
  const rows = (height - padding) / (cell + padding);
  return Number.isInteger(columns) && Number.isInteger(rows) && columns >= 1 && rows >= 1 ? { columns, rows } : null;
}

/** The grid's images as floats [n, channels, cell, cell] in [0, 1]. */
export function gridCells(img: RgbaImage, cell: number, channels: 1 | 3, padding = 2, name = 'grid'): Float32Array {
  const layout = gridLayout(img.width, img.height, cell, padding);
  if (!layout)
    throw new ValueError(`${name} (${img.width}x${img.height}) is not a grid of ${cell}x${cell} images with ${padding}-pixel padding.`, `Pass a grid written by softdiff (width = columns x ${cell + padding} + ${padding}), or a folder of images.`);
  const per = channels * cell * cell;
  const bytes = new Uint8Array(layout.columns * layout.rows * per);
  const bg = Array.from(img.data.subarray(0, 4));
  let n = 0;
  for (let r = 0; r < layout.rows; r++)
    for (let c = 0; c < layout.columns; c++) {
      const crop = cropRgba(img, padding + c * (cell + padding), padding + r * (cell + padding), cell, cell);
      let blank = true;
      for (let p = 0; p < crop.data.length && blank; p++) blank = crop.data[p] === bg[p % 4];
      if (blank) continue;
      rgbaToChw(crop, channels, bytes, n * per);
      n++;
    }
  return Float32Array.from(bytes.subarray(0, n * per), (v) => v / 255);
}
