// Image files are refused from their headers when they claim more pixels than softdiff decodes
// (issue 12, item 2): a tiny PNG or JPEG can claim 20000x20000 pixels, which the decoder would
// allocate (1.6 GB of RGBA) before noticing anything. And a folder with no usable image says why,
// file by file (item 8).
import { describe, expect, test } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { decodeImage } from '../../src/node/image-decode.ts';
import { loadImageFolder } from '../../src/node/datasets.ts';

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A well-formed PNG header (valid CRCs) claiming width x height grey pixels, with a few rows of data. */
function claimingPng(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, adaptive filter, no interlace
  const rows = deflateSync(new Uint8Array(4 * (1 + width)));
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A baseline JPEG header (SOI, SOF0 of width x height, one component, EOI): enough to claim a size. */
function claimingJpeg(width: number, height: number): Uint8Array {
  return new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
}

describe('pixel caps', () => {
  test('a PNG claiming 20000x20000 pixels is refused from its header, naming the file and the cap', () => {
    expect(() => decodeImage(claimingPng(20000, 20000), 'huge.png')).toThrow(/huge\.png claims 20000x20000 pixels, more than the 50 megapixels softdiff decodes/);
  });

  test('a JPEG claiming 9000x9000 (81 megapixels, under jpeg-js\'s own 100 MP default) is refused', () => {
    expect(() => decodeImage(claimingJpeg(9000, 9000), 'huge.jpg')).toThrow(/huge\.jpg.*maxResolutionInMP limit exceeded/);
  });

  test('a PNG within the cap still decodes', () => {
    const img = decodeImage(claimingPng(4, 4), 'small.png');
    expect([img.width, img.height]).toEqual([4, 4]);
  });
});

test('a folder with no usable image gives each file\'s reason as a warning and in the error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'softdiff-imgbounds-'));
  writeFileSync(join(dir, 'a.png'), claimingPng(20000, 20000));
  writeFileSync(join(dir, 'b.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  const warnings: string[] = [];
  const load = loadImageFolder(dir, { size: 8, onWarning: (m) => warnings.push(m) });
  await expect(load).rejects.toThrow(/has no readable PNG or JPEG images \(2 candidate files; .*a\.png claims 20000x20000 pixels, more than the 50 megapixels softdiff decodes; .*b\.png is neither a PNG nor a JPEG file\)/);
  expect(warnings).toHaveLength(2);
  expect(warnings[0]).toMatch(/Skipping .*a\.png: .*20000x20000/);
});
