"""Training losses (src/diffusion/losses.ts; SPEC section 3), as differentiable torch functions of the
network output phi. With x0_hat = phi + x_t, e = x0_hat - x0, n = C H W, w_b = levels[b, 3]:
    soft  per_sample[b] = w_b / n (||C_t e_b||^2 + lambda ||e_b||^2)   (lambda: options x0Weight, default 0)
    x0    per_sample[b] = w_b / n ||e_b||^2                          (Cold Diffusion's ablation)
    dsm   per_sample[b] = w_b / (2 n) ||(C_t x0_hat - x_t) / sigma_b + z_b||^2   (NCSN, epsilon form)
and the batch loss is the mean of per_sample. Autograd gives the engine's dL/dphi
(2 w / (B n) C^T C e for the soft loss). Each returns (loss, per_sample).
corrupt(x0, noise) = C_t x0 + sigma_b noise forms the training input.
"""
import torch

LOSSES = ('soft', 'x0', 'dsm')


def _per_sample_mean(v):
    return v.reshape(v.shape[0], -1).pow(2).mean(dim=1)


def corrupt(corruption, x0, noise, levels):
    return corruption.apply(x0, levels) + levels[:, 2].to(x0.dtype)[:, None, None, None] * noise


def soft_score_loss(corruption, phi, xt, x0, levels, x0_weight=0.0):
    e = phi + xt - x0
    per = _per_sample_mean(corruption.apply(e, levels))
    if x0_weight > 0:
        per = per + x0_weight * _per_sample_mean(e)
    per = levels[:, 3].to(phi.dtype) * per
    return per.mean(), per


def x0_loss(phi, xt, x0, levels):
    per = levels[:, 3].to(phi.dtype) * _per_sample_mean(phi + xt - x0)
    return per.mean(), per


def dsm_loss(corruption, phi, xt, noise, levels):
    sigma = levels[:, 2].to(phi.dtype)[:, None, None, None]
    r = (corruption.apply(phi + xt, levels) - xt) / sigma + noise
    per = 0.5 * levels[:, 3].to(phi.dtype) * _per_sample_mean(r)
    return per.mean(), per


def training_loss(name, corruption, phi, xt, x0, noise, levels, x0_weight=0.0):
    """The loss named in the options ('soft' by default), as the engine's trainer picks it."""
    if name == 'soft':
        return soft_score_loss(corruption, phi, xt, x0, levels, x0_weight)
    if name == 'x0':
        return x0_loss(phi, xt, x0, levels)
    if name == 'dsm':
        return dsm_loss(corruption, phi, xt, noise, levels)
    raise ValueError(f"Unknown loss {name!r}; use one of {', '.join(LOSSES)}.")
