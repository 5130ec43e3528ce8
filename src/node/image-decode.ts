// Decoding PNG and JPEG bytes into RgbaImage in Node (pngjs, jpeg-js). The browser has its own
// decoders (createImageBitmap); the core only sees the ImageDecoder type from src/data/image.ts.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ValueError } from '../gpu/errors.ts';
import type { RgbaImage } from '../data/image.ts';

export type ImageFormat = 'png' | 'jpeg';

/** The format from the file's first bytes (not its name), or null. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decode a PNG or JPEG into 8-bit RGBA; a ValueError naming `name` when it cannot. */
export function decodeImage(bytes: Uint8Array, name: string): RgbaImage {
  const format = sniffImageFormat(bytes);
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    if (format === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new ValueError(`Cannot decode ${name} as ${format}: ${(e as Error).message}`);
  }
  throw new ValueError(`${name} is neither a PNG nor a JPEG file.`);
}
