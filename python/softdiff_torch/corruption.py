"""The built-in corruptions C_t (src/diffusion/{blur,mask,identity}.ts), acting per sample on a batch
[B, C, H, W] with the level c_b = levels[b, 1], and their JSON descriptions as stored in checkpoints.

- DctBlur: C x = D_H^T (d .* (D_H X D_W^T)) D_W per channel, d[k, l] = exp(-(lam_k + lam_l) c^2 / 2),
  lam_k = (pi k / N)^2, D_N the orthonormal DCT-II matrix: a Gaussian blur of std c pixels with
  mirrored borders. Symmetric; `combine` forms a C_A x + b C_B x as one DCT-domain filter (the
  momentum sampler's fused step), never dividing by d.
- SoftMask: C = diag(m), m = clamp(1 + (u - c (1 + width)) / width, 0, 1), u the pixel's place in the
  masking order (radial, left-to-right, raster).
- Identity: C = I.
Everything is differentiable torch code, so losses through C get their gradients from autograd.
"""
import math

import numpy as np
import torch

from .schedule import Schedule, default_blur_schedule

_DCT_CACHE = {}


def dct_matrix(n, dtype=torch.float32, device=None):
    """D_N, D[k, i] = a_k cos(pi (2 i + 1) k / (2 N)), built in float64 and rounded once."""
    key = (n, dtype, str(device))
    if key not in _DCT_CACHE:
        k = np.arange(n)[:, None]
        i = np.arange(n)[None, :]
        a = np.where(k == 0, math.sqrt(1.0 / n), math.sqrt(2.0 / n))
        _DCT_CACHE[key] = torch.from_numpy(a * np.cos(np.pi * (2 * i + 1) * k / (2 * n))).to(device=device, dtype=dtype)
    return _DCT_CACHE[key]


def blur_spectrum(h, w, sigma_b, power=1.0):
    """d^power [B, 1, H, W] for per-sample blur stds sigma_b [B] (computed in sigma_b's dtype)."""
    dt, dev = sigma_b.dtype, sigma_b.device
    lh = (math.pi * torch.arange(h, dtype=dt, device=dev) / h) ** 2
    lw = (math.pi * torch.arange(w, dtype=dt, device=dev) / w) ** 2
    lam = lh[:, None] + lw[None, :]
    return torch.exp(-power * lam[None, None] * (sigma_b * sigma_b)[:, None, None, None] / 2)


def dct2(x):
    h, w = x.shape[-2:]
    return dct_matrix(h, x.dtype, x.device) @ x @ dct_matrix(w, x.dtype, x.device).T


def idct2(X):
    h, w = X.shape[-2:]
    return dct_matrix(h, X.dtype, X.device).T @ X @ dct_matrix(w, X.dtype, X.device)


class DctBlur:
    name = 'blur'

    def __init__(self, height, width=None, schedule=None):
        self.height = int(height)
        self.width = int(width or height)
        self.schedule = schedule or default_blur_schedule(max(self.height, self.width))

    def level(self, t):
        return self.schedule.at(t)

    def apply(self, x, levels):
        return self.combine(x, levels, 1.0)

    adjoint = apply

    def normal(self, x, levels):
        """C^T C x (the blur with std sqrt(2) c)."""
        d2 = blur_spectrum(self.height, self.width, levels[:, 1].to(x.dtype), 2.0)
        return idct2(d2 * dct2(x))

    def combine(self, x, levels_a, coef_a, levels_b=None, coef_b=0.0):
        """coef_a C_A x + coef_b C_B x as one filter D^T ((coef_a d_A + coef_b d_B) .* D x); coefs scalars or [B]."""
        h, w = x.shape[-2:]
        per = lambda c: c.to(x.dtype)[:, None, None, None] if torch.is_tensor(c) else c
        m = per(coef_a) * blur_spectrum(h, w, levels_a[:, 1].to(x.dtype))
        if levels_b is not None:
            m = m + per(coef_b) * blur_spectrum(h, w, levels_b[:, 1].to(x.dtype))
        return idct2(m * dct2(x))

    def to_json(self):
        return {'name': 'blur', 'height': self.height, 'width': self.width, 'schedule': self.schedule.to_json()}


MASK_KINDS = ('radial', 'left-to-right', 'raster')


class SoftMask:
    name = 'mask'

    def __init__(self, kind='radial', width=0.1, schedule=None):
        if kind not in MASK_KINDS:
            raise ValueError(f"Unknown mask kind {kind}; known: {', '.join(MASK_KINDS)}.")
        if not (math.isfinite(width) and width > 0):
            raise ValueError(f'Mask width must be > 0, got {width}. A hard mask gives no training signal; use a soft ramp such as 0.1.')
        self.kind, self.width, self.schedule = kind, width, schedule

    def level(self, t):
        if self.schedule is not None:
            return self.schedule.at(t)
        if not (0 <= t <= 1):
            raise ValueError(f't must lie in [0, 1], got {t}.')
        return t

    def order(self, h, w, dtype=torch.float32, device=None):
        """u(y, x) in [0, 1] as shaders/mask.wgsl computes it (float32)."""
        fy = torch.arange(h, dtype=torch.float32, device=device)[:, None] + 0.5
        fx = torch.arange(w, dtype=torch.float32, device=device)[None, :] + 0.5
        if self.kind == 'radial':
            cy, cx = 0.5 * h, 0.5 * w
            u = torch.sqrt((fy - cy) ** 2 + (fx - cx) ** 2) / math.sqrt(cy * cy + cx * cx)
        elif self.kind == 'left-to-right':
            u = (fx / w).expand(h, w)
        else:
            u = (torch.arange(h * w, dtype=torch.float32, device=device).reshape(h, w) + 0.5) / (h * w)
        return u.to(dtype)

    def mask(self, levels, h, w, dtype=torch.float32):
        u = self.order(h, w, dtype, levels.device)
        c = levels[:, 1].to(dtype)[:, None, None, None]
        return torch.clamp(1.0 + (u[None, None] - c * (1.0 + self.width)) / self.width, 0.0, 1.0)

    def apply(self, x, levels):
        return self.mask(levels, *x.shape[-2:], dtype=x.dtype) * x

    adjoint = apply

    def normal(self, x, levels):
        return self.mask(levels, *x.shape[-2:], dtype=x.dtype) ** 2 * x

    def to_json(self):
        return {'name': 'mask', 'kind': self.kind, 'width': self.width, 'schedule': self.schedule.to_json() if self.schedule else None}


class Identity:
    name = 'identity'

    def level(self, t):
        if not (0 <= t <= 1):
            raise ValueError(f't must lie in [0, 1], got {t}.')
        return 0.0

    def apply(self, x, levels):
        return x

    adjoint = normal = apply

    def to_json(self):
        return {'name': 'identity'}


CORRUPTIONS = ('blur', 'mask', 'identity')


def make_corruption(spec, size):
    """A corruption from its name (the engine's defaults for `size` pixels) or its JSON description."""
    if isinstance(spec, dict):
        return corruption_from_json(spec)
    if spec == 'blur':
        return DctBlur(size)
    if spec == 'mask':
        return SoftMask()
    if spec == 'identity':
        return Identity()
    raise ValueError(f"Unknown corruption {spec!r}. Use one of {', '.join(CORRUPTIONS)}.")


def corruption_from_json(j):
    name = j.get('name')
    if name == 'blur':
        return DctBlur(j['height'], j.get('width'), Schedule.from_json(j['schedule']))
    if name == 'mask':
        return SoftMask(j.get('kind', 'radial'), float(j.get('width', 0.1)), Schedule.from_json(j['schedule']) if j.get('schedule') else None)
    if name == 'identity':
        return Identity()
    raise ValueError(f"Unknown corruption in {j!r}. Built-in corruptions: {', '.join(CORRUPTIONS)}.")
