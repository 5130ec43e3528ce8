"""Schedules t -> value for the corruption level and the noise std (src/diffusion/schedule.ts), read
from and written as the checkpoint's JSON:
    {"kind": "geometric", "min": a, "max": b}               v(t) = a (b / a)^t
    {"kind": "piecewise-linear", "t": [...], "values": [...]}  straight lines, t from 0 to 1
and the levels rows (t, c, sigma, w) the network, losses and samplers read (src/diffusion/types.ts)."""
import math

import torch

LEVEL_STRIDE = 4


class Schedule:
    def __init__(self, spec):
        self.spec = _validated(spec)

    @staticmethod
    def geometric(lo, hi):
        return Schedule({'kind': 'geometric', 'min': lo, 'max': hi})

    @staticmethod
    def from_json(spec):
        return Schedule(spec)

    def to_json(self):
        s = self.spec
        if s['kind'] == 'geometric':
            return {'kind': 'geometric', 'min': s['min'], 'max': s['max']}
        return {'kind': s['kind'], 't': list(s['t']), 'values': list(s['values'])}

    def at(self, t):
        """The value at t in [0, 1], in float64 as the engine's host evaluates it."""
        t = float(t)
        if not math.isfinite(t) or t < 0 or t > 1:
            raise ValueError(f'Schedule time t must lie in [0, 1], got {t}.')
        s = self.spec
        if s['kind'] == 'geometric':
            lo, hi = s['min'], s['max']
            return lo if lo == hi else math.exp(math.log(lo) + t * (math.log(hi) - math.log(lo)))
        ts, vs = s['t'], s['values']
        k = 1
        while k < len(ts) - 1 and ts[k] < t:
            k += 1
        u = (t - ts[k - 1]) / (ts[k] - ts[k - 1])
        return vs[k - 1] + u * (vs[k] - vs[k - 1])


def _validated(spec):
    if not isinstance(spec, dict):
        raise ValueError(f'Not a schedule description: {spec!r}.')
    if spec.get('kind') == 'geometric':
        lo, hi = float(spec['min']), float(spec['max'])
        if not (math.isfinite(lo) and math.isfinite(hi) and lo > 0 and hi >= lo):
            raise ValueError(f'A geometric schedule needs 0 < min <= max, got {spec!r}.')
        return {'kind': 'geometric', 'min': spec['min'], 'max': spec['max']}
    if spec.get('kind') == 'piecewise-linear':
        ts, vs = [float(x) for x in spec['t']], [float(v) for v in spec['values']]
        if len(ts) < 2 or len(ts) != len(vs) or ts[0] != 0 or ts[-1] != 1:
            raise ValueError(f'A piecewise-linear schedule needs >= 2 points from t = 0 to t = 1, got {spec!r}.')
        for k in range(len(ts)):
            if not vs[k] > 0 or (k and (not ts[k] > ts[k - 1] or vs[k] < vs[k - 1])):
                raise ValueError(f'Schedule t must increase and values be positive and non-decreasing (point {k}).')
        return {'kind': 'piecewise-linear', 't': list(spec['t']), 'values': list(spec['values'])}
    raise ValueError(f"Not a schedule description: {spec!r}. Expected kind 'geometric' or 'piecewise-linear'.")


def default_blur_schedule(size):
    """sigmaB: 0.01 px at t = 0 to 0.36 N px at t = 1, geometric."""
    return Schedule.geometric(0.01, 0.36 * size)


def default_noise_schedule(corruption):
    """sigma: 0.01..0.1 for blur and masking, 0.01..50 for identity (VE)."""
    return Schedule.geometric(0.01, 50) if corruption == 'identity' else Schedule.geometric(0.01, 0.1)


def inverse_variance_weight(sigma, cap=1e4):
    return min(1.0 / (sigma * sigma), cap)


def loss_weight(weighting):
    if weighting == 'inverse-variance':
        return lambda t, sigma: inverse_variance_weight(sigma)
    if weighting == 'uniform':
        return lambda t, sigma: 1.0
    raise ValueError(f"Unknown weighting {weighting!r}; use 'uniform' or 'inverse-variance'.")


def fill_levels(corruption, noise, ts, weight=None, device=None, dtype=torch.float32):
    """The levels tensor [B, 4]: row b = (t_b, corruption.level(t_b), noise.at(t_b), w(t_b, sigma_b))."""
    rows = []
    for t in ts:
        sigma = noise.at(t)
        rows.append((t, corruption.level(t), sigma, weight(t, sigma) if weight else 1.0))
    # float32 first, as the engine's host array, whatever dtype the caller computes in
    return torch.tensor(rows, dtype=torch.float32).to(device=device, dtype=dtype)
