"""The four samplers (src/diffusion/samplers.ts, shaders/sampler.wgsl; SPEC section 4) and the prior
bank (src/sample/bank-prior.ts), step for step as the engine runs them, so that with the engine's
noise (rng.philox_normals, or numbers handed in) a run follows the engine's.

Steps t_i = 1 - i/N, i = 0..N-1; t_next = t_{i+1} (0 after the last); the denoiser is never evaluated
at t = 0. With st = sigma(t), sn = sigma(t_next), rho = sn^2 / st^2, y = C x0_hat:
    momentum          x <- rho x + C_next x0_hat - rho C_t x0_hat + sqrt(max(st^2 - sn^2, 0)) z
    probability-flow  kappa = (1 + rho) / 2: x <- kappa x + C_next x0_hat - kappa C_t x0_hat
    naive             x <- C_next x0_hat + sn z
    langevin          N levels at t_i, T steps each, g = eps / sigma(1/N)^2:
                      x <- (1 - g) x + g C_t x0_hat + sqrt(2 g) st z
For the DCT blur the momentum and probability-flow steps use one filter (C_next - a C_t) x0_hat.
Noise: step s (counted over every update, Langevin's included) uses the engine's Philox key
(seed, s), stream 0; the prior's noise is (seed, 0), stream 2; the bank picks come from
HostRng(mix_seed(seed, 0x9a10)).
"""
import math

import numpy as np
import torch

from .corruption import DctBlur
from .rng import HostRng, mix_seed, philox_normals
from .schedule import fill_levels

SAMPLERS = ('momentum', 'probability-flow', 'naive', 'langevin')
STREAM_SAMPLER, STREAM_PRIOR, STREAM_PRIOR_NOISE = 0, 1, 2


def sampler_times(n):
    return [1 - i / n for i in range(n)]


def engine_noise(seed, shape, dtype=torch.float32, device=None):
    """noise(step, stream) -> the engine's normals for (seed, step, stream) as a tensor of `shape`."""
    count = int(np.prod(shape))

    def noise(step, stream=STREAM_SAMPLER):
        z = philox_normals(count, seed, step, stream)
        return torch.from_numpy(z).reshape(shape).to(device=device, dtype=dtype)
    return noise


def prior_bank_draw(bank, count, seed, sigma1, noise):
    """x_1 = C_1 x0_k + sigma_1 eta with k picked per sample as the engine's BankPrior does."""
    rng = HostRng(mix_seed(seed, 0x9A10))
    picks = [rng.int(bank.shape[0]) for _ in range(count)]
    return bank[picks] + sigma1 * noise(0, STREAM_PRIOR_NOISE)


@torch.no_grad()
def sample(denoiser, corruption, noise_schedule, shape, steps, kind='momentum', seed=0, prior_bank=None, init=None,
           noise=None, langevin_eps=2e-5, langevin_steps=100, output='x0hat', fuse_blur=True, on_step=None,
           device=None, dtype=torch.float32):
    """Run a sampler; returns the last x0_hat (default) or the last iterate.

    denoiser(x_t, levels) -> x0_hat (e.g. lambda x, lv: net.denoise(x, lv)). x_1 is `init`, else a
    prior-bank draw (`prior_bank` [K, C, H, W]: C_1 x0 of K images), else sigma(1) N(0, I).
    noise(step, stream) gives the standard normals (default: the engine's Philox numbers for `seed`).
    on_step(step, t, x_t, x0_hat) is called after every update (x_t after it).
    """
    if kind not in SAMPLERS:
        raise ValueError(f"Unknown sampler {kind}; known: {', '.join(SAMPLERS)}.")
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f'Sampler steps must be a positive integer, got {steps}.')
    b = shape[0]
    noise = noise or engine_noise(seed, shape, dtype, device)
    sigma1 = noise_schedule.at(1)
    if init is not None:
        x = init.to(device=device, dtype=dtype).clone()
    elif prior_bank is not None:
        x = prior_bank_draw(prior_bank.to(device=device, dtype=dtype), b, seed, sigma1, noise)
    else:
        x = sigma1 * noise(0, STREAM_PRIOR)
    fuse = fuse_blur and isinstance(corruption, DctBlur) and kind in ('momentum', 'probability-flow')
    per_level = langevin_steps if kind == 'langevin' else 1
    g = 0.0
    if kind == 'langevin':
        sl = noise_schedule.at(1 / steps)
        g = langevin_eps / (sl * sl)
        if not 0 < g < 1:
            raise ValueError(f'Langevin step eps / sigma_L^2 = {g} must lie in (0, 1). Lower langevin_eps.')
    times = sampler_times(steps)
    done = 0
    x0hat = x
    for i, t in enumerate(times):
        t_next = t if kind == 'langevin' else (times[i + 1] if i + 1 < steps else 0.0)
        lt = fill_levels(corruption, noise_schedule, [t] * b, device=device, dtype=dtype)
        ln = fill_levels(corruption, noise_schedule, [t_next] * b, device=device, dtype=dtype)
        # sigma^2 ratios from the float32 levels, as the engine's kernel reads them
        st2 = float(lt[0, 2].float()) ** 2
        sn2 = float(ln[0, 2].float()) ** 2
        rho = sn2 / st2
        for _ in range(per_level):
            x0hat = denoiser(x, lt)
            z = noise(done, STREAM_SAMPLER) if kind != 'probability-flow' else 0.0
            if kind == 'langevin':
                x = (1 - g) * x + g * corruption.apply(x0hat, lt) + math.sqrt(2 * g * st2) * z
            elif kind == 'naive':
                x = corruption.apply(x0hat, ln) + math.sqrt(sn2) * z
            else:
                a = rho if kind == 'momentum' else 0.5 * (1 + rho)
                s = math.sqrt(max(st2 - sn2, 0.0)) if kind == 'momentum' else 0.0
                y = corruption.combine(x0hat, ln, 1.0, lt, -a) if fuse else corruption.apply(x0hat, ln) - a * corruption.apply(x0hat, lt)
                x = a * x + y + s * z
            done += 1
            if on_step:
                on_step(done, t, x, x0hat)
    return x0hat if output == 'x0hat' else x
