"""The engine's random numbers, reproduced bit for bit on the host (numpy).

- HostRng: mulberry32 (src/data/host-rng.ts), the seeded generator of host-side decisions: data order,
  the t of each training sample, the prior-bank picks. Its whole state is one uint32, stored in
  checkpoints as `hostRng`.
- mix_seed, permutation: the seed mixer and the Fisher-Yates shuffle built on it.
- uniform_stream: the engine's initial-weight stream (src/nn/plan.ts initialParameters): mulberry32
  from (seed ^ 0x9e3779b9), vectorised (the state advances by a constant, so draw i needs no loop).
- philox_normals: the GPU noise (shaders/philox.wgsl): Philox-4x32-10 keyed by (seed, step), counter
  (i // 4, stream, 0, 0), Box-Muller on two words. The integers are exact; the normals differ from a
  GPU's only by its log/sin/cos rounding (float64 here).
"""
import numpy as np

_U32 = 0xFFFFFFFF
_GOLDEN = 0x6D2B79F5


def _imul(a, b):
    """Math.imul on Python ints: the low 32 bits of the product."""
    return (a * b) & _U32


class HostRng:
    """mulberry32: uniform floats in [0, 1) from a 32-bit state."""

    def __init__(self, seed):
        self.state = int(seed) & _U32

    def next(self):
        self.state = (self.state + _GOLDEN) & _U32
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & _U32
        return ((t ^ (t >> 14)) & _U32) / 4294967296.0

    def int(self, n):
        """Uniform integer in [0, n)."""
        return int(self.next() * n)


def mix_seed(a, b):
    """Mix two integers into a seed (host-rng.ts mixSeed)."""
    a &= _U32
    b &= _U32
    h = _imul(a ^ 0x9E3779B9, 0x85EBCA6B) ^ _imul((b + 0x632BE5AB) & _U32, 0xC2B2AE35)
    h ^= h >> 16
    h = _imul(h, 0x7FEB352D)
    h ^= h >> 15
    return h & _U32


def permutation(n, rng):
    """A seeded permutation of 0..n-1 (Fisher-Yates from the end, as host-rng.ts)."""
    p = np.arange(n, dtype=np.int64)
    for i in range(n - 1, 0, -1):
        j = rng.int(i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def _mulberry_outputs(states):
    """mulberry32's output function on a uint64 array of 32-bit states (already advanced)."""
    m = np.uint64(_U32)
    t = states & m
    t = ((t ^ (t >> np.uint64(15))) * (t | np.uint64(1))) & m
    t = (t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m)) & m
    return ((t ^ (t >> np.uint64(14))) & m).astype(np.float64) / 4294967296.0


def uniform_stream(seed, count, start=0):
    """Draws start .. start+count-1 of mulberry32 seeded with (seed ^ 0x9e3779b9) (the weight init)."""
    s0 = (int(seed) ^ 0x9E3779B9) & _U32
    k = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    states = (np.uint64(s0) + k * np.uint64(_GOLDEN)) & np.uint64(_U32)
    return _mulberry_outputs(states)


_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85


def philox_words(quads, stream, seed, step):
    """Philox-4x32-10 of counters (q, stream, 0, 0), q = 0..quads-1, key (seed, step): [quads, 4] uint32."""
    m = np.uint64(_U32)
    c0 = np.arange(quads, dtype=np.uint64)
    c1 = np.full(quads, stream & _U32, dtype=np.uint64)
    c2 = np.zeros(quads, dtype=np.uint64)
    c3 = np.zeros(quads, dtype=np.uint64)
    k0, k1 = int(seed) & _U32, int(step) & _U32
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _U32
            k1 = (k1 + _W1) & _U32
        p0 = _M0 * c0  # < 2^64: exact in uint64
        p1 = _M1 * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0)) & m, p1 & m, ((p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1)) & m, p0 & m
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def philox_normals(n, seed, step, stream=0):
    """The n standard normals the engine's GPU writes for (seed, step, stream), as float64."""
    quads = (n + 3) // 4
    w = philox_words(quads, stream, seed, step).astype(np.float64)
    w8 = np.floor(w / 256.0)
    u1 = (w8[:, 0::2] + 0.5) / 16777216.0
    u2 = w8[:, 1::2] / 16777216.0
    r = np.sqrt(-2.0 * np.log(u1))
    th = 2.0 * np.pi * (u2 - 0.5)
    z = np.empty((quads, 4))
    z[:, 0::2] = r * np.cos(th)
    z[:, 1::2] = r * np.sin(th)
    return z.reshape(-1)[:n]
