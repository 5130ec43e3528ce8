// Decoding PNG and JPEG bytes into RgbaImage in Node (pngjs, jpeg-js). The browser has its own
// decoders (createImageBitmap); the core only sees the ImageDecoder type from src/data/image.ts.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ValueError } from '../gpu/errors.ts';
import type { RgbaImage } from '../data/image.ts';
import { MAX_IMAGE_PIXELS } from '../base/limits.ts';

export type ImageFormat = 'png' | 'jpeg';

/** The format from the file's first bytes (not its name), or null. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Width and height from a PNG's IHDR chunk (the first chunk, right after the signature), or null. */
export function pngDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) !== 'IHDR') return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 24);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

/**
 * Decode a PNG or JPEG into 8-bit RGBA; a ValueError naming `name` when it cannot. An image of more
 * than MAX_IMAGE_PIXELS pixels is refused from its header, before any pixel memory is allocated.
 */
export function decodeImage(bytes: Uint8Array, name: string): RgbaImage {
  const format = sniffImageFormat(bytes);
  if (format === 'png') {
    const dim = pngDimensions(bytes);
    if (dim && dim.width * dim.height > MAX_IMAGE_PIXELS)
      throw new ValueError(`${name} claims ${dim.width}x${dim.height} pixels, more than the ${MAX_IMAGE_PIXELS / 1e6} megapixels softdiff decodes.`, 'Downscale the image, or remove it from the folder.');
  }
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    if (format === 'jpeg') {
      // jpeg-js refuses a frame above maxResolutionInMP when it reads the frame header, before allocating.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 512 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new ValueError(`Cannot decode ${name} as ${format}: ${(e as Error).message}`);
  }
  throw new ValueError(`${name} is neither a PNG nor a JPEG file.`);
}
