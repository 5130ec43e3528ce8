"""Sample grids as PNG files (zlib + struct; no imaging library): ceil(sqrt(B)) columns, 2 px of white
between and around the images, values clipped to [0, 1] for display (NaN black), as src/io/grid.ts."""
import math
import struct
import zlib

import numpy as np


def grid(images, columns=None, padding=2):
    """[B, C, H, W] floats -> [height, width, C] bytes."""
    x = np.nan_to_num(np.asarray(images, dtype=np.float64), nan=0.0)
    b, c, h, w = x.shape
    cols = columns or math.ceil(math.sqrt(b))
    rows = math.ceil(b / cols)
    out = np.full((padding + rows * (h + padding), padding + cols * (w + padding), c), 255, dtype=np.uint8)
    px = np.where(x > 0, np.where(x < 1, np.floor(x * 255 + 0.5), 255), 0).astype(np.uint8)
    for i in range(b):
        r, k = divmod(i, cols)
        y0, x0 = padding + r * (h + padding), padding + k * (w + padding)
        out[y0:y0 + h, x0:x0 + w] = px[i].transpose(1, 2, 0)
    return out


def write_png(path, pixels):
    """[H, W, 1 or 3] uint8 -> an 8-bit grey or RGB PNG."""
    h, w, c = pixels.shape
    raw = b''.join(b'\x00' + pixels[y].tobytes() for y in range(h))
    chunk = lambda tag, data: struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xFFFFFFFF)
    ihdr = struct.pack('>IIBBBBB', w, h, 8, 0 if c == 1 else 2, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))
